"""The kernel lab: Linux 6.12 built from Debian's source package, booted under QEMU.

It knows nothing of reclaim: it builds kernels (`source`, `patches`, `config`, `build`, kept in
`kernels`) and runs commands in guests of a given shape (`qemu`, `guest`). The kernel layer runs
unchanged inside a guest, because the guest's root is the host's, shared read-only.
"""
