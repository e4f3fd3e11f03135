"""LZ4 block compression as the kernel's lib/lz4 does it, for byte-exact zram sizes.

The kernel's compressor (lib/lz4/lz4_compress.c, LZ4_compress_fast on a 4 KiB page: 16-bit
position table of 2^13 entries, 4-byte hash, skip acceleration, no output limit) is the LZ4
v1.7 match finder. Current liblz4 (the `lz4` package) finds different matches on some pages:
on small-integer arrays the kernel's output is up to 50 % larger, about 0.8 % on whole
real-program corpora, which is more than zram's compr_data_size may differ by. So the model
compresses with this module: a small C implementation written here after that algorithm, built
with the system C compiler on first use into the user's cache directory and called through
ctypes. Output is a standard LZ4 block (any LZ4 decoder reads it). Without a C compiler,
`kernel_lz4_available()` is False and callers fall back to the `lz4` package.
"""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Callable
from functools import cache

import numpy as np

from kcompressd import PAGE_SIZE
from kcompressd.codecs.cbuild import build_library

_SOURCE = r"""
#include <stdint.h>
#include <string.h>

/* LZ4 block format constants and the kernel's table geometry for inputs < 64 KiB. */
#define MINMATCH 4
#define MFLIMIT 12
#define LASTLITERALS 5
#define RUN_MASK 15
#define ML_MASK 15
#define HASH_BITS 13           /* LZ4_MEMORY_USAGE 14 -> 12, +1 for 16-bit entries */
#define SKIP_TRIGGER 6

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint32_t hpos(const uint8_t *p) {
    return (rd32(p) * 2654435761U) >> (32 - HASH_BITS);
}

static uint8_t *put_len(uint8_t *op, unsigned len) {
    for (; len >= 255; len -= 255) *op++ = 255;
    *op++ = (uint8_t)len;
    return op;
}

/* Compress n bytes (n < 64 KiB) into dst (>= n + n/255 + 16 bytes); returns the length. */
int kc_lz4_compress(const uint8_t *src, int n, uint8_t *dst) {
    uint16_t table[1 << HASH_BITS];
    const uint8_t *ip = src, *anchor = src, *const iend = src + n;
    const uint8_t *const mflimit = iend - MFLIMIT, *const matchlimit = iend - LASTLITERALS;
    uint8_t *op = dst, *token;
    const uint8_t *match;
    uint32_t fh;

    memset(table, 0, sizeof(table));
    if (n < MFLIMIT + 1) goto last;
    table[hpos(ip)] = 0;
    fh = hpos(++ip);
    for (;;) {
        /* Search forward, the step growing every 2^SKIP_TRIGGER misses. */
        const uint8_t *fwd = ip;
        unsigned step = 1, tries = 1u << SKIP_TRIGGER;
        do {
            uint32_t h = fh;
            ip = fwd;
            fwd += step;
            step = tries++ >> SKIP_TRIGGER;
            if (fwd > mflimit) goto last;
            match = src + table[h];
            fh = hpos(fwd);
            table[h] = (uint16_t)(ip - src);
        } while (rd32(match) != rd32(ip));
        /* Extend backwards over equal bytes. */
        while (ip > anchor && match > src && ip[-1] == match[-1]) { ip--; match--; }
        {
            unsigned lit = (unsigned)(ip - anchor);
            token = op++;
            if (lit >= RUN_MASK) { *token = RUN_MASK << 4; op = put_len(op, lit - RUN_MASK); }
            else *token = (uint8_t)(lit << 4);
            memcpy(op, anchor, lit);
            op += lit;
        }
        for (;;) {
            unsigned mlen = 0;
            uint16_t off = (uint16_t)(ip - match);
            *op++ = (uint8_t)off;
            *op++ = (uint8_t)(off >> 8);
            {
                /* Count equal bytes up to matchlimit, eight at a time where possible. */
                const uint8_t *a = ip + MINMATCH, *b = match + MINMATCH;
                while (a + 8 <= matchlimit) {
                    uint64_t x, y;
                    memcpy(&x, a, 8);
                    memcpy(&y, b, 8);
                    if (x != y) { a += __builtin_ctzll(x ^ y) >> 3; goto counted; }
                    a += 8; b += 8;
                }
                while (a < matchlimit && *a == *b) { a++; b++; }
            counted:
                mlen = (unsigned)(a - (ip + MINMATCH));
                ip = a;
            }
            if (mlen >= ML_MASK) { *token += ML_MASK; op = put_len(op, mlen - ML_MASK); }
            else *token += (uint8_t)mlen;
            anchor = ip;
            if (ip > mflimit) goto last;
            table[hpos(ip - 2)] = (uint16_t)(ip - 2 - src);
            {
                uint32_t h = hpos(ip);
                match = src + table[h];
                table[h] = (uint16_t)(ip - src);
            }
            if (rd32(match) != rd32(ip)) break;
            token = op++;          /* immediate next match, no literals */
            *token = 0;
        }
        fh = hpos(++ip);
    }
last:
    {
        unsigned run = (unsigned)(iend - anchor);
        if (run >= RUN_MASK) { *op++ = RUN_MASK << 4; op = put_len(op, run - RUN_MASK); }
        else *op++ = (uint8_t)(run << 4);
        memcpy(op, anchor, run);
        op += run;
    }
    return (int)(op - dst);
}

/* Many pages at once, as zram_write_page() sees them: a same-filled page (all 8-byte words
 * equal, page_same_filled()) gets lens[i] = -1 and its word in words[i]; any other page is
 * compressed to the next free byte of dst and gets its length. Returns bytes written. */
long kc_lz4_compress_pages(const uint8_t *src, int npages, uint8_t *dst, int32_t *lens,
                           uint64_t *words) {
    long total = 0;
    for (int i = 0; i < npages; i++) {
        const uint8_t *page = src + (long)i * 4096;
        uint64_t w, first;
        int same = 1;
        memcpy(&first, page, 8);
        memcpy(&w, page + 4096 - 8, 8);
        if (w != first) same = 0;
        for (int k = 8; same && k < 4096; k += 8) {
            memcpy(&w, page + k, 8);
            if (w != first) same = 0;
        }
        if (same) { lens[i] = -1; words[i] = first; continue; }
        lens[i] = kc_lz4_compress(page, 4096, dst + total);
        words[i] = 0;
        total += lens[i];
    }
    return total;
}
"""

_BOUND = PAGE_SIZE + PAGE_SIZE // 255 + 16


@cache
def _library() -> ctypes.CDLL | None:
    """Build (once per source version) and load the shared object; None without a compiler."""
    lib = build_library("kernel_lz4", _SOURCE)
    if lib is None:
        return None
    lib.kc_lz4_compress.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
    lib.kc_lz4_compress.restype = ctypes.c_int
    lib.kc_lz4_compress_pages.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                          ctypes.c_void_p, ctypes.c_void_p)
    lib.kc_lz4_compress_pages.restype = ctypes.c_long
    return lib


def kernel_lz4_available() -> bool:
    return _library() is not None


def kernel_lz4_compressor() -> Callable[[bytes], bytes]:
    """A page compressor giving the kernel's LZ4_compress_fast output (one buffer per caller)."""
    lib = _library()
    if lib is None:
        raise RuntimeError("no C compiler to build the kernel-exact lz4 compressor")
    fn = lib.kc_lz4_compress
    out = ctypes.create_string_buffer(_BOUND)

    def compress(page: bytes) -> bytes:
        return out[: fn(page, len(page), out)]

    return compress


def kernel_lz4_compress_pages(data: bytes | mmap.mmap
                              ) -> tuple[list[int], list[int], list[int], memoryview]:
    """Same-filled test and compression of every page of `data` in one call.

    Returns (lens, words, ends, blob): lens[i] is -1 for a same-filled page (words[i] its
    word), else the compressed length; the compressed pages follow each other in `blob`, a
    view (slices of it share the one buffer instead of copying each page's bytes), page i
    ending at ends[i].
    """
    lib = _library()
    if lib is None:
        raise RuntimeError("no C compiler to build the kernel-exact lz4 compressor")
    n = len(data) // PAGE_SIZE
    out = np.empty(max(1, n * _BOUND), dtype=np.uint8)
    lens = np.empty(n, dtype=np.int32)
    words = np.empty(n, dtype=np.uint64)
    src = data if isinstance(data, bytes) else (ctypes.c_char * len(data)).from_buffer(data)
    total = lib.kc_lz4_compress_pages(src, n, out.ctypes.data, lens.ctypes.data,
                                      words.ctypes.data)
    ends = np.cumsum(np.maximum(lens, 0), dtype=np.int64)
    return lens.tolist(), words.tolist(), ends.tolist(), memoryview(out[:total])
