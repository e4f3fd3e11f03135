"""LZO1X-1 and lzo-rle as the kernel's lib/lzo does them, for byte-exact zram sizes.

zram's default algorithm is lzo-rle (`lzorle1x_1_compress()`), and its "lzo" is the kernel's
own `lzo1x_1_compress()`, not liblzo2's: the kernel's dictionary has 2^13 16-bit entries
(D_BITS 13, liblzo2's LZO1X-1 uses 2^14), so lengths differ. This C source is written after the
kernel's algorithm (lib/lzo/lzo1x_compress.c, 64-bit little-endian build as on x86_64 and
arm64): the literal-skipping heuristic `1 + (distance since the last instruction) / 32`, the
multiplicative hash 0x1824429d, match lengths measured 8 bytes at a time up to 20 bytes before
the end, M2/M3/M4 instructions, and for lzo-rle the "17, 1" bitstream header, zero runs of
4..2051 bytes as one 4-byte instruction (no dictionary update), the M4 distance limit 0xbffe
and the 261..264-byte length adjustment. The decompressor (after lzo1x_decompress_safe()) is
here to check every page round-trips. Without a C compiler `lzo_kernel_available()` is False.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache

from kcompressd import PAGE_SIZE
from kcompressd.codecs.cbuild import build_library

_SOURCE = r"""
#include <stdint.h>
#include <string.h>

#define D_BITS 13
#define D_MASK ((1u << D_BITS) - 1)
#define M2_MAX_LEN 8
#define M3_MAX_LEN 33
#define M4_MAX_LEN 9
#define M2_MAX_OFFSET 0x0800
#define M3_MAX_OFFSET 0x4000
#define M3_MARKER 32
#define M4_MARKER 16
#define MIN_ZERO_RUN 4
#define MAX_ZERO_RUN (2047 + MIN_ZERO_RUN)

static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Length of a literal run, then the literals; `state` is where a run of 1..3 goes. */
static uint8_t *put_literals(uint8_t *op, const uint8_t *ii, size_t t, int state) {
    if (t <= 3) {
        op[state] |= (uint8_t)t;
    } else if (t <= 18) {
        *op++ = (uint8_t)(t - 3);
    } else {
        size_t tt = t - 18;
        *op++ = 0;
        for (; tt > 255; tt -= 255) *op++ = 0;
        *op++ = (uint8_t)tt;
    }
    memcpy(op, ii, t);
    return op + t;
}

static uint8_t *put_count(uint8_t *op, size_t len) {
    for (; len > 255; len -= 255) *op++ = 0;
    *op++ = (uint8_t)len;
    return op;
}

/* Compress n bytes (n <= 0xbfff: one dictionary window) into dst (>= n + n/16 + 67 bytes);
 * rle: 0 for lzo1x_1_compress(), 1 for lzorle1x_1_compress(). Returns the length. */
int kc_lzo_compress(const uint8_t *in, int n, uint8_t *dst, int rle) {
    uint16_t dict[1u << D_BITS];
    uint8_t *op = dst;
    const uint8_t *ii = in, *const in_end = in + n;
    int state = -2;
    if (n > 0xbfff) return -1;
    if (rle) { *op++ = 17; *op++ = 1; }
    uint8_t *const data_start = op;
    if (n > 20) {
        const uint8_t *const ip_end = in_end - 20;
        const uint8_t *ip = in + 4;
        int skip = 1;
        memset(dict, 0, sizeof dict);
        for (;;) {
            const uint8_t *m_pos = 0;
            size_t run = 0;
            if (skip) ip += 1 + ((size_t)(ip - ii) >> 5);
            skip = 1;
            if (ip >= ip_end) break;
            uint32_t dv = rd32(ip);
            if (dv == 0 && rle) {
                const uint8_t *limit = ip + MAX_ZERO_RUN + 1 < ip_end ? ip + MAX_ZERO_RUN + 1
                                                                       : ip_end;
                const uint8_t *ir = ip + 4;
                while (ir < limit && *ir == 0) ir++;
                run = (size_t)(ir - ip);
                if (run > MAX_ZERO_RUN) run = MAX_ZERO_RUN;
            } else {
                uint32_t h = ((dv * 0x1824429dU) >> (32 - D_BITS)) & D_MASK;
                m_pos = in + dict[h];
                dict[h] = (uint16_t)(ip - in);
                if (dv != rd32(m_pos)) continue;  /* a literal: skip ahead */
            }
            if (ip > ii) op = put_literals(op, ii, (size_t)(ip - ii), state);
            skip = 0;
            if (run) {
                uint32_t v;
                ip += run;
                run -= MIN_ZERO_RUN;
                v = ((uint32_t)run << 21) | 0xfffc18U | (uint32_t)(run & 7);
                memcpy(op, &v, 4);
                op += 4;
                state = -3;
                ii = ip;
                continue;
            }
            size_t m_len = 4;
            uint64_t x = rd64(ip + m_len) ^ rd64(m_pos + m_len);
            int capped = 0;
            while (x == 0) {
                m_len += 8;
                x = rd64(ip + m_len) ^ rd64(m_pos + m_len);
                if (ip + m_len >= ip_end) { capped = 1; break; }
            }
            if (!capped) m_len += (size_t)__builtin_ctzll(x) / 8;
            size_t m_off = (size_t)(ip - m_pos);
            ip += m_len;
            if (m_len <= M2_MAX_LEN && m_off <= M2_MAX_OFFSET) {
                m_off -= 1;
                *op++ = (uint8_t)(((m_len - 1) << 5) | ((m_off & 7) << 2));
                *op++ = (uint8_t)(m_off >> 3);
            } else if (m_off <= M3_MAX_OFFSET) {
                m_off -= 1;
                if (m_len <= M3_MAX_LEN) *op++ = (uint8_t)(M3_MARKER | (m_len - 2));
                else { *op++ = M3_MARKER; op = put_count(op, m_len - M3_MAX_LEN); }
                *op++ = (uint8_t)(m_off << 2);
                *op++ = (uint8_t)(m_off >> 6);
            } else {
                m_off -= 0x4000;
                if (m_len <= M4_MAX_LEN) {
                    *op++ = (uint8_t)(M4_MARKER | ((m_off >> 11) & 8) | (m_len - 2));
                } else {
                    if (rle && (m_off & 0x403f) == 0x403f && m_len >= 261 && m_len <= 264) {
                        ip -= m_len - 260;  /* avoid the zero-run instruction's encoding */
                        m_len = 260;
                    }
                    *op++ = (uint8_t)(M4_MARKER | ((m_off >> 11) & 8));
                    op = put_count(op, m_len - M4_MAX_LEN);
                }
                *op++ = (uint8_t)(m_off << 2);
                *op++ = (uint8_t)(m_off >> 6);
            }
            state = -2;
            ii = ip;
        }
    }
    size_t t = (size_t)(in_end - ii);
    if (t > 0) {
        if (op == data_start && t <= 238) {
            *op++ = (uint8_t)(17 + t);
            memcpy(op, ii, t);
            op += t;
        } else {
            op = put_literals(op, ii, t, state);
        }
    }
    *op++ = M4_MARKER | 1;
    *op++ = 0;
    *op++ = 0;
    return (int)(op - dst);
}

/* Decompress into dst (room for cap bytes); returns the length, or -1 on a bad stream. */
int kc_lzo_decompress(const uint8_t *in, int n, uint8_t *dst, int cap) {
    const uint8_t *ip = in, *const ie = in + n;
    uint8_t *op = dst, *const oe = dst + cap;
    size_t t, next = 0, state = 0;
    int rle = 0;
#define NEED_IN(k) if ((size_t)(ie - ip) < (size_t)(k)) return -1
#define NEED_OUT(k) if ((size_t)(oe - op) < (size_t)(k)) return -1
    if (n < 3) return -1;
    if (n >= 5 && ip[0] == 17) { rle = ip[1]; ip += 2; }
    if (*ip > 17) {
        t = (size_t)(*ip++ - 17);
        if (t < 4) { next = t; goto match_next; }
        NEED_IN(t); NEED_OUT(t);
        memcpy(op, ip, t); op += t; ip += t;
        state = 4;
    }
    for (;;) {
        const uint8_t *m_pos;
        NEED_IN(1);
        t = *ip++;
        if (t < 16) {
            if (state == 0) {
                if (t == 0) {
                    size_t zeros = 0;
                    NEED_IN(1);
                    while (*ip == 0) { ip++; zeros++; NEED_IN(1); }
                    t = zeros * 255 + 15 + *ip++;
                }
                t += 3;
                NEED_IN(t); NEED_OUT(t);
                memcpy(op, ip, t); op += t; ip += t;
                state = 4;
                continue;
            }
            NEED_IN(1);
            next = t & 3;
            if (state != 4) {
                m_pos = op - 1 - (t >> 2) - ((size_t)*ip++ << 2);
                t = 2;
            } else {
                m_pos = op - (1 + M2_MAX_OFFSET) - (t >> 2) - ((size_t)*ip++ << 2);
                t = 3;
            }
        } else if (t >= 64) {
            NEED_IN(1);
            next = t & 3;
            m_pos = op - 1 - ((t >> 2) & 7) - ((size_t)*ip++ << 3);
            t = (t >> 5) - 1 + 2;
        } else if (t >= 32) {
            t = (t & 31) + 2;
            if (t == 2) {
                size_t zeros = 0;
                NEED_IN(1);
                while (*ip == 0) { ip++; zeros++; NEED_IN(1); }
                t = zeros * 255 + 31 + 2 + *ip++;
            }
            NEED_IN(2);
            next = (size_t)ip[0] | ((size_t)ip[1] << 8);
            ip += 2;
            m_pos = op - 1 - (next >> 2);
            next &= 3;
        } else {
            NEED_IN(2);
            next = (size_t)ip[0] | ((size_t)ip[1] << 8);
            if (rle && (next & 0xfffc) == 0xfffc && (t & 0xf8) == 0x18) {
                NEED_IN(3);
                t = (t & 7) | ((size_t)ip[2] << 3);
                t += MIN_ZERO_RUN;
                NEED_OUT(t);
                memset(op, 0, t);
                op += t;
                next &= 3;
                ip += 3;
                goto match_next;
            }
            size_t back = (t & 8) << 11;
            t = (t & 7) + 2;
            if (t == 2) {
                size_t zeros = 0;
                while (*ip == 0) { ip++; zeros++; NEED_IN(1); }
                t = zeros * 255 + 7 + 2 + *ip++;
                NEED_IN(2);
                next = (size_t)ip[0] | ((size_t)ip[1] << 8);
            }
            ip += 2;
            m_pos = op - back - (next >> 2);
            next &= 3;
            if (m_pos == op) return t == 3 && ip == ie ? (int)(op - dst) : -1;
            m_pos -= 0x4000;
        }
        if (m_pos < dst) return -1;
        NEED_OUT(t);
        for (size_t k = 0; k < t; k++) *op++ = *m_pos++;
match_next:
        state = next;
        NEED_IN(next); NEED_OUT(next);
        for (t = next; t > 0; t--) *op++ = *ip++;
    }
}
"""

_BOUND = PAGE_SIZE + PAGE_SIZE // 16 + 64 + 3


@cache
def _library() -> ctypes.CDLL | None:
    lib = build_library("kernel_lzo", _SOURCE)
    if lib is None:
        return None
    lib.kc_lzo_compress.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    lib.kc_lzo_compress.restype = ctypes.c_int
    lib.kc_lzo_decompress.argtypes = (ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                      ctypes.c_int)
    lib.kc_lzo_decompress.restype = ctypes.c_int
    return lib


def lzo_kernel_available() -> bool:
    return _library() is not None


def lzo_kernel_codec(rle: bool) -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]:
    """(compress, decompress) of the kernel's lzo1x_1 (rle False) or lzo-rle (rle True)."""
    lib = _library()
    if lib is None:
        raise RuntimeError("no C compiler to build the kernel-exact lzo compressor")
    comp, decomp = lib.kc_lzo_compress, lib.kc_lzo_decompress
    out = ctypes.create_string_buffer(_BOUND)
    page = ctypes.create_string_buffer(PAGE_SIZE)

    def compress(data: bytes) -> bytes:
        n = comp(data, len(data), out, int(rle))
        if n < 0:
            raise ValueError(f"lzo: {len(data)} bytes is more than one dictionary window")
        return out[:n]

    def decompress(blob: bytes) -> bytes:
        n = decomp(blob, len(blob), page, PAGE_SIZE)
        if n < 0:
            raise ValueError("lzo: not a valid compressed page")
        return page[:n]

    return compress, decompress
