from kcompressd.cli import main

main()
