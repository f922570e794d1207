// cgraph._csvrows: `eval --data`'s plain CSV rows read and written in C++, without Python's
// lock (threads read and write blocks side by side), where the install could build it.
// data.py uses Arrow for everything when it could not, and for every block this module
// leaves to it; both give the same bytes. It needs C++17's <charconv> for doubles (GCC 11,
// Clang with a libc++ or libstdc++ that has it) and unsigned __int128 (GCC, Clang).
//
// cells(block, width, where) -> (numbers, starts, ends) or None
//
//   A block of whole CSV lines of `width` cells each (the last line may lack its newline):
//   for each column of `where`, its numbers (float64), and where each cell starts and ends
//   in the block (int64), as three lists of bytearrays. None for a block this module does
//   not read, which the caller reads otherwise: an empty one, or one with a quote, a CR, an
//   empty line or cell, a line of another width, or a cell of `where` that is not a plain
//   number (an optional '-', digits with at most one '.', an optional exponent: a cell
//   std::from_chars reads whole, to a finite number, and not to 0 from digits that are not
//   all 0). A number is the double nearest to the decimal (std::from_chars rounds
//   correctly), as Python's float() reads it.
//
// rows(columns, nan, inf, neg_inf, powers) -> bytes
//
//   Each column is either a float64 buffer (its numbers are spelled) or a tuple (data,
//   starts, ends) of a buffer and two int64 buffers: cell r is data[starts[r]:ends[r]],
//   written as it is. Every row is the columns' cells joined by commas, ended by a newline.
//
//   A number is spelled as Arrow's cast to string spells it: the fewest significant digits
//   that read back as the same double (Schubfach, below), laid out positionally for decimal
//   exponents -6 to 9 (`0.000001`, `1500000000`, `0.15000000000000002`) and with an exponent
//   otherwise (`1e-7`, `1.5e+10`); `0` and `-0`; NaN and the infinities as the caller spells
//   them. `powers` is Schubfach's table (see `shortest`).

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace {

constexpr Py_ssize_t NUMBER_MAX = 32;  // the longest is 25 bytes: -0.0000012345678901234567
constexpr Py_ssize_t SLACK = 48;  // what `spell` may write past a spelling's end
constexpr Py_ssize_t ROOM = PY_SSIZE_T_MAX - SLACK;  // the most rows() may write

struct Spellings {
    const char *nan, *inf, *neg_inf;
    Py_ssize_t nan_n, inf_n, neg_inf_n;
};

// Schubfach (R. Giulietti, "The Schubfach way to render doubles", 2020; Java's
// Double.toString since JDK 19): the shortest decimal d * 10^k in the double's rounding
// interval, the closest to it if several are, as an integer d and its exponent k. `g` is
// the table of 126-bit approximations of powers of ten the caller computes exactly
// (data.py, from Python's integers): g[e + G_FIRST] = floor(10^e * 2^-r) + 1 with r such
// that 2^125 <= g < 2^126, for e from -G_FIRST to G_LAST.
constexpr int G_FIRST = 292, G_LAST = 324;

int flog10pow2(int q) { return int((int64_t(q) * 661971961083LL) >> 41); }
int flog10threequarterspow2(int q) {
    return int((int64_t(q) * 661971961083LL - 274743187321LL) >> 41);
}
int flog2pow10(int e) { return int((int64_t(e) * 913124641741LL) >> 38); }

template <class T>
T load(const void *base, Py_ssize_t i) {  // base[i], wherever the buffer starts
    T x;
    std::memcpy(&x, static_cast<const char *>(base) + i * Py_ssize_t(sizeof x), sizeof x);
    return x;
}

uint64_t high(uint64_t a, uint64_t b) {
    return uint64_t((static_cast<unsigned __int128>(a) * b) >> 64);
}

// (g1 * 2^63 + g0) * cp / 2^127, rounded to odd: Schubfach's rop
uint64_t rop(uint64_t g1, uint64_t g0, uint64_t cp) {
    const uint64_t x1 = high(g0, cp), y0 = g1 * cp, y1 = high(g1, cp);
    const uint64_t z = (y0 >> 1) + x1;
    const uint64_t vbp = y1 + (z >> 63);
    constexpr uint64_t MASK_63 = (uint64_t(1) << 63) - 1;
    return vbp | (((z & MASK_63) + MASK_63) >> 63);
}

// v's shortest digits: true and (d, k) for a normal double v > 0; false for a subnormal
// (with a table other than data.py's, d may be anything: `spell` checks it)
bool shortest(double v, const uint64_t *g, uint64_t &d, int &k) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    const int biased = int(bits >> 52) & 0x7ff;
    if (biased == 0) return false;
    const uint64_t c = (bits & ((uint64_t(1) << 52) - 1)) | (uint64_t(1) << 52);
    const int q = biased - 1075;
    const uint64_t out = c & 1, cb = c << 2, cbr = cb + 2;
    uint64_t cbl;
    if (c != uint64_t(1) << 52 || biased == 1) {
        cbl = cb - 2;
        k = flog10pow2(q);
    } else {
        cbl = cb - 1;
        k = flog10threequarterspow2(q);
    }
    const int h = q + flog2pow10(-k) + 2;
    const uint64_t *gk = g + 2 * (-k + G_FIRST);
    const uint64_t g1 = gk[0], g0 = gk[1];
    const uint64_t vb = rop(g1, g0, cb << h), vbl = rop(g1, g0, cbl << h),
                   vbr = rop(g1, g0, cbr << h);
    const uint64_t s = vb >> 2;
    if (s >= 100) {  // one digit fewer?
        const uint64_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
        const bool upin = vbl + out <= sp10 << 2, wpin = (tp10 << 2) + out <= vbr;
        if (upin != wpin) {
            d = upin ? sp10 : tp10;
            return true;
        }
    }
    const uint64_t t = s + 1;
    const bool uin = vbl + out <= s << 2, win = (t << 2) + out <= vbr;
    if (uin != win) {
        d = uin ? s : t;
        return true;
    }
    const int64_t cmp = int64_t(vb - ((s + t) << 1));  // both in: the closer, or the even
    d = cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t;
    return true;
}

constexpr char PAIRS[] =  // "00" to "99": two digits at a time
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// d's decimal digits (d < 10^17), ending just before `end`; how many
int write_digits(uint64_t d, char *end) {
    char *p = end;
    if (d >> 32) {  // the low 8 digits with 32-bit arithmetic
        const uint64_t high = d / 100000000;
        uint32_t low = uint32_t(d - high * 100000000);
        d = high;
        for (int i = 0; i < 4; ++i, low /= 100) std::memcpy(p -= 2, PAIRS + 2 * (low % 100), 2);
    }
    auto rest = uint32_t(d);
    while (rest >= 100) {
        std::memcpy(p -= 2, PAIRS + 2 * (rest % 100), 2);
        rest /= 100;
    }
    if (rest >= 10)
        std::memcpy(p -= 2, PAIRS + 2 * rest, 2);
    else
        *--p = char('0' + rest);
    return int(end - p);
}

// Writes v's spelling at p (up to SLACK bytes past its end may be overwritten); its end
char *spell(double v, char *p, const Spellings &words, const uint64_t *g) {
    if (std::isnan(v)) {
        std::memcpy(p, words.nan, words.nan_n);
        return p + words.nan_n;
    }
    if (std::isinf(v)) {
        if (v > 0) {
            std::memcpy(p, words.inf, words.inf_n);
            return p + words.inf_n;
        }
        std::memcpy(p, words.neg_inf, words.neg_inf_n);
        return p + words.neg_inf_n;
    }
    if (std::signbit(v)) {
        *p++ = '-';
        v = -v;
    }
    if (v == 0) {
        *p++ = '0';
        return p;
    }
    char digits[48];  // the digits from digits[0], then room for fixed-size copies
    int n, e;         // how many, and the exponent of the first: d.ddd * 10^e
    uint64_t d;
    int k;
    bool fast = shortest(v, g, d, k) && d != 0;
    if (fast) {
        while (d % 10 == 0) {
            d /= 10;
            ++k;
        }
        fast = d < 100000000000000000u;  // always, with the right table: never 18 digits
    }
    if (fast) {
        n = write_digits(d, digits + 17);
        std::memmove(digits, digits + 17 - n, 17);
        e = k + n - 1;
    } else {  // a subnormal (or a wrong table): the C++ library's shortest digits
        char sci[40];  // d.ddde-xxx
        const char *end =
            std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific).ptr;
        const char *s = sci;
        n = 0;
        digits[n++] = *s++;
        if (*s == '.') {
            ++s;
            while (*s != 'e') digits[n++] = *s++;
        }
        s += 2;  // e-
        e = 0;
        while (s < end) e = e * 10 + (*s++ - '0');
        e = -e;
    }
    // fixed-size copies: at most 17 digits and 9 zeros are wanted, the rest is overwritten
    if (e >= 0 && e <= 9) {
        std::memcpy(p, digits, 24);
        if (n <= e + 1) {  // 1500000000, 15
            std::memset(p + n, '0', 16);
            return p + e + 1;
        }
        p[e + 1] = '.';  // 1.5, 15.25
        std::memcpy(p + e + 2, digits + e + 1, 24);
        return p + n + 1;
    }
    if (e < 0 && e >= -6) {  // 0.15, 0.0000015
        std::memcpy(p, "0.000000", 8);
        std::memcpy(p + 1 - e, digits, 24);
        return p + 1 - e + n;
    }
    *p++ = digits[0];  // 1.5e+10, 1e-7
    if (n > 1) {
        *p++ = '.';
        std::memcpy(p, digits + 1, 24);
        p += n - 1;
    }
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    return std::to_chars(p, p + 4, e < 0 ? -e : e).ptr;
}

struct Column {
    bool text = false;
    Py_buffer values{}, data{}, starts{}, ends{};  // numbers; or cells: data[starts:ends]
};

void release(std::vector<Column> &columns) {
    for (auto &c : columns)
        for (Py_buffer *b : {&c.values, &c.data, &c.starts, &c.ends})
            if (b->obj) PyBuffer_Release(b);
}

bool spelling(PyObject *arg, const char **text, Py_ssize_t *n) {
    if (PyBytes_GET_SIZE(arg) > NUMBER_MAX) {
        PyErr_SetString(PyExc_ValueError, "a spelling is at most 32 bytes");
        return false;
    }
    *text = PyBytes_AS_STRING(arg);
    *n = PyBytes_GET_SIZE(arg);
    return true;
}

bool int64s(PyObject *arg, Py_buffer *view) {
    if (PyObject_GetBuffer(arg, view, PyBUF_C_CONTIGUOUS) < 0) return false;
    if (view->itemsize != 8 || view->len % 8) {
        PyErr_SetString(PyExc_TypeError, "cell bounds must be int64");
        return false;
    }
    return true;
}

// A buffer the argument parser filled (y*), released however the function returns
struct Held {
    Py_buffer &b;
    ~Held() { PyBuffer_Release(&b); }
};

bool too_long() {  // false, with the error: the output's size is past what a size can hold
    PyErr_SetString(PyExc_OverflowError, "the rows would be too long");
    return false;
}

PyObject *rows(PyObject *, PyObject *args) {
    PyObject *seq, *nan, *inf, *neg_inf;
    Py_buffer powers;
    if (!PyArg_ParseTuple(args, "OSSSy*", &seq, &nan, &inf, &neg_inf, &powers)) return nullptr;
    const Held held{powers};
    uint64_t g[2 * (G_FIRST + G_LAST + 1)];  // a copy: aligned, and no thread changes it
    if (powers.len != Py_ssize_t(sizeof g)) {
        PyErr_SetString(PyExc_ValueError, "the table of powers of ten has the wrong size");
        return nullptr;
    }
    std::memcpy(g, powers.buf, sizeof g);
    Spellings s{};
    if (!spelling(nan, &s.nan, &s.nan_n) || !spelling(inf, &s.inf, &s.inf_n) ||
        !spelling(neg_inf, &s.neg_inf, &s.neg_inf_n))
        return nullptr;
    PyObject *items = PySequence_Fast(seq, "columns must be a sequence");
    if (!items) return nullptr;
    const Py_ssize_t width = PySequence_Fast_GET_SIZE(items);
    std::vector<Column> columns(width);
    Py_ssize_t count = -1, size = 0;
    bool ok = width > 0;
    if (!ok) PyErr_SetString(PyExc_ValueError, "no columns");
    for (Py_ssize_t k = 0; ok && k < width; ++k) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, k);
        Column &c = columns[k];
        Py_ssize_t n;
        if (PyTuple_Check(item)) {
            c.text = true;
            PyObject *data, *starts, *ends;
            ok = PyArg_ParseTuple(item, "OOO", &data, &starts, &ends) &&
                 PyObject_GetBuffer(data, &c.data, PyBUF_C_CONTIGUOUS) == 0 &&
                 int64s(starts, &c.starts) && int64s(ends, &c.ends);
            if (!ok) break;
            n = c.starts.len / 8;
            ok = c.ends.len / 8 == n;
            for (Py_ssize_t r = 0; ok && r < n; ++r) {
                const auto from = load<int64_t>(c.starts.buf, r);
                const auto to = load<int64_t>(c.ends.buf, r);
                ok = 0 <= from && from <= to && to <= c.data.len;
                if (ok && to - from > ROOM - size) ok = too_long();
                if (ok) size += to - from;
            }
            if (!ok) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "a cell's bounds are out of its buffer");
                break;
            }
        } else {
            ok = PyObject_GetBuffer(item, &c.values, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) == 0;
            if (!ok) break;
            if (c.values.itemsize != 8 || !c.values.format || std::strcmp(c.values.format, "d")) {
                PyErr_SetString(PyExc_TypeError, "a column of numbers must be float64");
                ok = false;
                break;
            }
            n = c.values.len / 8;
            if (n > (ROOM - size) / NUMBER_MAX) {
                ok = too_long();
                break;
            }
            size += n * NUMBER_MAX;
        }
        if (count >= 0 && n != count) {
            PyErr_SetString(PyExc_ValueError, "the columns differ in length");
            ok = false;
        }
        count = n;
    }
    if (ok && count > (ROOM - size) / width) ok = too_long();
    PyObject *out = nullptr;
    if (ok) out = PyBytes_FromStringAndSize(nullptr, size + count * width + SLACK);
    if (out) {
        char *const begin = PyBytes_AS_STRING(out);
        char *const limit = begin + size + count * width;  // then SLACK bytes
        char *p = begin;
        bool changed = false;  // by another thread, since the bounds were checked
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; !changed && r < count; ++r) {
            for (Py_ssize_t k = 0; k < width; ++k) {
                const Column &c = columns[k];
                if (c.text) {  // the bounds again: a writable array may change without the GIL
                    const auto from = load<int64_t>(c.starts.buf, r);
                    const auto to = load<int64_t>(c.ends.buf, r);
                    if (!(0 <= from && from <= to && to <= c.data.len && to - from < limit - p)) {
                        changed = true;
                        break;
                    }
                    std::memcpy(p, static_cast<const char *>(c.data.buf) + from, size_t(to - from));
                    p += to - from;
                } else {
                    if (limit - p <= NUMBER_MAX) {
                        changed = true;
                        break;
                    }
                    p = spell(load<double>(c.values.buf, r), p, s, g);
                }
                *p++ = k + 1 < width ? ',' : '\n';
            }
        }
        Py_END_ALLOW_THREADS
        if (changed) {
            Py_CLEAR(out);
            PyErr_SetString(PyExc_BufferError,
                            "a column's cell bounds changed while it was written");
        } else if (_PyBytes_Resize(&out, p - begin) < 0) {
            out = nullptr;
        }
    }
    release(columns);
    Py_DECREF(items);
    return out;
}

// a cell of `where` as a number, or false: from_chars must read all of [p, end), a plain
// number's characters only, to a finite double that is 0 only when its digits are
bool number(const char *p, const char *end, double &v) {
    const char *digit = p + (*p == '-');
    if (digit == end || !((*digit >= '0' && *digit <= '9') || *digit == '.')) return false;
    const auto got = std::from_chars(p, end, v);  // chars_format::general: no hex, no '+'
    if (got.ec != std::errc() || got.ptr != end || !std::isfinite(v)) return false;
    if (v == 0) {  // 1e-400 underflows to 0: the slow reader says so
        for (; digit < end && *digit != 'e' && *digit != 'E'; ++digit)
            if (*digit >= '1' && *digit <= '9') return false;
    }
    return true;
}

PyObject *cells(PyObject *, PyObject *args) {
    Py_buffer block;
    Py_ssize_t width;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "y*nO", &block, &width, &seq)) return nullptr;
    const Held held{block};
    PyObject *items = PySequence_Fast(seq, "where must be a sequence");
    if (!items) return nullptr;
    const Py_ssize_t wanted = PySequence_Fast_GET_SIZE(items);
    // (column, its place in where) by column: nothing as long as the width (which the
    // caller may get wrong by a lot) is allocated
    std::vector<std::pair<Py_ssize_t, Py_ssize_t>> order(static_cast<size_t>(wanted));
    bool ok = width > 0 && wanted > 0;
    for (Py_ssize_t i = 0; ok && i < wanted; ++i) {
        const Py_ssize_t column = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(items, i));
        ok = 0 <= column && column < width;
        order[size_t(i)] = {column, i};
    }
    Py_DECREF(items);
    if (ok) {
        std::sort(order.begin(), order.end());
        ok = std::adjacent_find(order.begin(), order.end(), [](const auto &a, const auto &b) {
                 return a.first == b.first;
             }) == order.end();
    }
    if (!ok) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "where names each column of the width at most once");
        return nullptr;
    }
    const char *const begin = static_cast<const char *>(block.buf), *const end = begin + block.len;
    if (block.len == 0 || std::memchr(begin, '"', block.len) || std::memchr(begin, '\r', block.len))
        Py_RETURN_NONE;
    Py_ssize_t lines = 0;
    for (const char *p = begin; (p = static_cast<const char *>(std::memchr(p, '\n', end - p)));
         ++p)
        ++lines;
    if (end[-1] != '\n') ++lines;  // the file's last line
    PyObject *result = PyTuple_New(3);
    if (!result) return nullptr;
    std::vector<double *> numbers(wanted);
    std::vector<int64_t *> starts(wanted), ends(wanted);
    for (Py_ssize_t part = 0; part < 3; ++part) {
        PyObject *list = PyList_New(wanted);
        if (!list) {
            Py_DECREF(result);
            return nullptr;
        }
        PyTuple_SET_ITEM(result, part, list);
        for (Py_ssize_t i = 0; i < wanted; ++i) {
            PyObject *array = PyByteArray_FromStringAndSize(nullptr, lines * 8);
            if (!array) {
                Py_DECREF(result);
                return nullptr;
            }
            PyList_SET_ITEM(list, i, array);
            void *at = PyByteArray_AS_STRING(array);
            if (part == 0) numbers[i] = static_cast<double *>(at);
            else if (part == 1) starts[i] = static_cast<int64_t *>(at);
            else ends[i] = static_cast<int64_t *>(at);
        }
    }
    Py_BEGIN_ALLOW_THREADS
    const char *p = begin;
    for (Py_ssize_t line = 0; ok && line < lines; ++line) {
        size_t next = 0;  // the next of `order` on this line
        for (Py_ssize_t column = 0; column < width; ++column) {
            const char *cell = p;
            while (p < end && *p != ',' && *p != '\n') ++p;
            const bool last = column + 1 == width;
            if (p == cell || (last ? p < end && *p != '\n' : p == end || *p != ',')) {
                ok = false;  // an empty cell or line, or a line of another width
                break;
            }
            if (next < order.size() && order[next].first == column) {
                const Py_ssize_t i = order[next++].second;
                if (!number(cell, p, numbers[i][line])) {
                    ok = false;
                    break;
                }
                starts[i][line] = cell - begin;
                ends[i][line] = p - begin;
            }
            ++p;  // the comma or the newline
        }
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    return result;
}

PyMethodDef methods[] = {
    {"cells", cells, METH_VARARGS,
     "cells(block, width, where) -> (numbers, starts, ends) or None: the plain number cells "
     "of the columns `where` of a block of CSV lines (see the module's source)."},
    {"rows", rows, METH_VARARGS,
     "rows(columns, nan, inf, neg_inf, powers) -> bytes: CSV rows of float64 buffers "
     "(spelled) and of cells given as (data, starts, ends) (written as they are)."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT,
                      "cgraph._csvrows",
                      "eval --data's plain CSV rows, read and written without Python's lock.",
                      -1,
                      methods,
                      nullptr,
                      nullptr,
                      nullptr,
                      nullptr};

}  // namespace

// What data.py checks before it uses this module (data.CSVROWS): a build left from an
// older checkout (an editable install not rebuilt after a pull) is then not called.
constexpr long INTERFACE = 1;

PyMODINIT_FUNC PyInit__csvrows(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return nullptr;
    }
    return m;
}
