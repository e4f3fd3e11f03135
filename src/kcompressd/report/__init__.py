"""`kcompressd report`: sweep databases and result JSON files to one self-contained HTML page.

`load` turns every input into rows, `energy` estimates energy from CPU busy time, `analysis`
aggregates seeds and compares each design with its baseline, `figures` draws SVG, `html`
lays out the page and `write` puts the directory in place whole.
"""
