"""Numba kernels: random fully connected networks evaluated on all inputs.

Pure array-in / array-out.  A network with input dimension d, hidden widths
h_1..h_L and one output unit stores its parameters in one flat vector, layer
by layer: the weight matrix (fan_in x fan_out, row-major) and then, when
biases are used, the bias vector.  The perceptron is the case L = 0.

The forward pass works on the transposed input matrix ``XT`` (d x m), so the
innermost loops run over the m inputs and vectorize.  Arithmetic is float32;
the output bit of input i is 1 iff the final pre-activation is > 0.
"""

import math

import numba
import numpy as np

from .rng import fill_normal, fill_uniform, stream_seed

ACTIVATIONS = {"relu": 0, "tanh": 1, "linear": 2}
LAWS = {"gaussian": 0, "uniform": 1}

# Samples per parallel work item.  Results never depend on it.
_BLOCK = 64

__all__ = [
    "ACTIVATIONS",
    "LAWS",
    "layer_sizes",
    "param_count",
    "draw_params",
    "keys_from_params",
    "sample_keys",
]


def layer_sizes(d, widths):
    """Fan-in and fan-out of every layer, the output unit included."""
    sizes = [int(d)] + [int(w) for w in widths] + [1]
    return np.array(sizes, dtype=np.int64)


@numba.njit(cache=True)
def param_count(sizes, bias):
    """Length of the flat parameter vector of a network with these layer sizes."""
    total = 0
    for layer in range(sizes.shape[0] - 1):
        total += sizes[layer] * sizes[layer + 1]
        if bias:
            total += sizes[layer + 1]
    return total


@numba.njit(cache=True)
def _draw_one(seed, sizes, bias, law, sigma_w, sigma_b, params):
    """Draw one network's parameters (scaled as DESIGN.md prescribes)."""
    if law == 0:
        fill_normal(seed, params, np.float32(1.0))
    else:
        fill_uniform(seed, params, np.float32(1.0))
    off = 0
    for layer in range(sizes.shape[0] - 1):
        fan_in = sizes[layer]
        n_w = fan_in * sizes[layer + 1]
        sw = np.float32(sigma_w / math.sqrt(fan_in))
        for k in range(off, off + n_w):
            params[k] *= sw
        off += n_w
        if bias:
            sb = np.float32(sigma_b)
            for k in range(off, off + sizes[layer + 1]):
                params[k] *= sb
            off += sizes[layer + 1]


@numba.njit(inline="always", fastmath=True)
def _tanh32(x):
    """float32 tanh as a rational minimax approximation (within 5 ulp of tanh; vectorizes)."""
    c = np.float32(7.90531110763549805)  # beyond this, tanh rounds to +-1 in float32
    x = min(max(x, -c), c)
    x2 = x * x
    p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
    p = x2 * p + np.float32(-8.60467152213735e-11)
    p = x2 * p + np.float32(5.12229709037114e-08)
    p = x2 * p + np.float32(1.48572235717979e-05)
    p = x2 * p + np.float32(6.37261928875436e-04)
    p = x2 * p + np.float32(4.89352455891786e-03)
    q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
    q = x2 * q + np.float32(2.26843463243900e-03)
    q = x2 * q + np.float32(4.89352518554385e-03)
    return x * p / q


@numba.njit(inline="always", fastmath=True)
def _s8(w, c, i):
    """``sum_k w[k] * c[k][i]`` for eight weights and input rows, as a balanced tree."""
    return ((w[0] * c[0][i] + w[1] * c[1][i]) + (w[2] * c[2][i] + w[3] * c[3][i])) + (
        (w[4] * c[4][i] + w[5] * c[5][i]) + (w[6] * c[6][i] + w[7] * c[7][i])
    )


@numba.njit(inline="always", fastmath=True)
def _block_pass(row, bias_j, first, w, c, m, act):
    """One pass over the inputs: ``row = act(start + sum_k w[k] * c[k])``.

    ``start`` is ``bias_j`` on the first pass and ``row`` after it; ``act`` is
    -1 on passes that are not the last.  Every case has its own loop, free of
    branches and of reads through a second name for ``row``, so each vectorizes.
    """
    zero = np.float32(0.0)
    if first:
        if act < 0 or act == 2:
            for i in range(m):
                row[i] = bias_j + _s8(w, c, i)
        elif act == 0:
            for i in range(m):
                row[i] = max(bias_j + _s8(w, c, i), zero)
        else:
            for i in range(m):
                row[i] = _tanh32(bias_j + _s8(w, c, i))
    else:
        if act < 0 or act == 2:
            for i in range(m):
                row[i] += _s8(w, c, i)
        elif act == 0:
            for i in range(m):
                row[i] = max(row[i] + _s8(w, c, i), zero)
        else:
            for i in range(m):
                row[i] = _tanh32(row[i] + _s8(w, c, i))


@numba.njit(inline="always", fastmath=True)
def _dense_row(row, params, off, stride, j, bias_j, cur, fan_in, m, act):
    """``row[i] = act(bias_j + sum_a params[off + a * stride + j] * cur[a, i])``.

    Eight input rows are summed per pass over the m inputs, the bias entering
    in the first pass and the activation in the last, so a unit costs
    ceil(fan_in / 8) passes.  A last, partial block gets zero weights (and
    repeats a real row of ``cur``, whose values are finite).
    """
    zero = np.float32(0.0)
    last = fan_in - 1
    for a in range(0, fan_in, 8):
        p = off + a * stride + j
        w = (
            params[p],
            params[p + stride] if a + 1 <= last else zero,
            params[p + 2 * stride] if a + 2 <= last else zero,
            params[p + 3 * stride] if a + 3 <= last else zero,
            params[p + 4 * stride] if a + 4 <= last else zero,
            params[p + 5 * stride] if a + 5 <= last else zero,
            params[p + 6 * stride] if a + 6 <= last else zero,
            params[p + 7 * stride] if a + 7 <= last else zero,
        )
        c = (cur[a], cur[min(a + 1, last)], cur[min(a + 2, last)], cur[min(a + 3, last)],
             cur[min(a + 4, last)], cur[min(a + 5, last)], cur[min(a + 6, last)], cur[min(a + 7, last)])
        _block_pass(row, bias_j, a == 0, w, c, m, act if a + 8 > last else -1)


@numba.njit(cache=True, fastmath=True)
def _forward_key(params, XT, sizes, bias, act, scratch, key):
    """Evaluate one network on every input and pack the output bits into ``key``.

    ``scratch`` is a (2 * max_width + 1, m) float32 work array (see :func:`_scratch`).
    """
    m = XT.shape[1]
    width = (scratch.shape[0] - 1) // 2
    buf_a = scratch[:width]
    buf_b = scratch[width:2 * width]
    z = scratch[2 * width]
    cur = XT
    nxt = buf_a
    parity = 0
    off = 0
    n_layers = sizes.shape[0] - 1
    for layer in range(n_layers - 1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        b_off = off + fan_in * fan_out
        for j in range(fan_out):
            bias_j = params[b_off + j] if bias else np.float32(0.0)
            _dense_row(nxt[j], params, off, fan_out, j, bias_j, cur, fan_in, m, act)
        off = b_off + (fan_out if bias else 0)
        cur = nxt[:fan_out]
        parity ^= 1
        nxt = buf_b if parity else buf_a
    fan_in = sizes[n_layers - 1]
    b_out = params[off + fan_in] if bias else np.float32(0.0)
    _dense_row(z, params, off, 1, 0, b_out, cur, fan_in, m, 2)
    for w_idx in range(key.shape[0]):
        word = np.uint64(0)
        base = 64 * w_idx
        for b in range(min(64, m - base)):
            word |= np.uint64(z[base + b] > np.float32(0.0)) << np.uint64(b)
        key[w_idx] = word


@numba.njit(cache=True)
def _scratch(sizes, m):
    """Work array for :func:`_forward_key`: two layer buffers and the output row."""
    width = 1
    for layer in range(1, sizes.shape[0] - 1):
        width = max(width, sizes[layer])
    return np.empty((2 * width + 1, m), dtype=np.float32)


@numba.njit(cache=True, parallel=True)
def draw_params(key0, key1, start, count, sizes, bias, law, sigma_w, sigma_b):
    """Parameters of samples ``start .. start+count-1`` of a chunk, one row each.

    These are exactly the parameters that :func:`sample_keys` evaluates.
    """
    n_par = param_count(sizes, bias)
    out = np.empty((count, n_par), dtype=np.float32)
    for r in numba.prange(count):
        seed = stream_seed(key0, key1, start + r)
        _draw_one(seed, sizes, bias, law, sigma_w, sigma_b, out[r])
    return out


@numba.njit(cache=True, parallel=True)
def keys_from_params(params, XT, sizes, bias, act):
    """Packed functions of networks given by rows of ``params``."""
    count = params.shape[0]
    m = XT.shape[1]
    n_w = (m + 63) // 64
    keys = np.empty((count, n_w), dtype=np.uint64)
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(n_blocks):
        scratch = _scratch(sizes, m)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            _forward_key(params[r], XT, sizes, bias, act, scratch, keys[r])
    return keys


@numba.njit(cache=True, parallel=True)
def sample_keys(key0, key1, start, count, XT, sizes, bias, act, law, sigma_w, sigma_b):
    """Draw networks ``start .. start+count-1`` of a chunk and return their packed functions.

    Parameters are generated inside the kernel, one stream per sample, and
    never stored beyond one network at a time.
    """
    m = XT.shape[1]
    n_w = (m + 63) // 64
    keys = np.empty((count, n_w), dtype=np.uint64)
    n_par = param_count(sizes, bias)
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(n_blocks):
        params = np.empty(n_par, dtype=np.float32)
        scratch = _scratch(sizes, m)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            seed = stream_seed(key0, key1, start + r)
            _draw_one(seed, sizes, bias, law, sigma_w, sigma_b, params)
            _forward_key(params, XT, sizes, bias, act, scratch, keys[r])
    return keys
