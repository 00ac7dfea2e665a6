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


@numba.njit(cache=True, fastmath=True)
def _forward_key(params, XT, sizes, bias, act, buf_a, buf_b, z, key):
    """Evaluate one network on every input and pack the output bits into ``key``."""
    m = XT.shape[1]
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
            bj = params[b_off + j] if bias else np.float32(0.0)
            for i in range(m):
                nxt[j, i] = bj
            for a in range(fan_in):
                w = params[off + a * fan_out + j]
                for i in range(m):
                    nxt[j, i] += w * cur[a, i]
            if act == 0:
                for i in range(m):
                    nxt[j, i] = max(nxt[j, i], np.float32(0.0))
            elif act == 1:
                for i in range(m):
                    nxt[j, i] = math.tanh(nxt[j, i])
        off = b_off + (fan_out if bias else 0)
        cur = nxt[:fan_out]
        parity ^= 1
        nxt = buf_b if parity else buf_a
    fan_in = sizes[n_layers - 1]
    b_out = params[off + fan_in] if bias else np.float32(0.0)
    for i in range(m):
        z[i] = b_out
    for a in range(fan_in):
        w = params[off + a]
        for i in range(m):
            z[i] += w * cur[a, i]
    for w_idx in range(key.shape[0]):
        word = np.uint64(0)
        hi = min(64, m - 64 * w_idx)
        for b in range(hi):
            if z[64 * w_idx + b] > np.float32(0.0):
                word |= np.uint64(1) << np.uint64(b)
        key[w_idx] = word


@numba.njit(cache=True)
def _max_width(sizes):
    width = 1
    for layer in range(1, sizes.shape[0] - 1):
        width = max(width, sizes[layer])
    return width


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
    width = _max_width(sizes)
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(n_blocks):
        buf_a = np.empty((width, m), dtype=np.float32)
        buf_b = np.empty((width, m), dtype=np.float32)
        z = np.empty(m, dtype=np.float32)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            _forward_key(params[r], XT, sizes, bias, act, buf_a, buf_b, z, keys[r])
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
    width = _max_width(sizes)
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(n_blocks):
        params = np.empty(n_par, dtype=np.float32)
        buf_a = np.empty((width, m), dtype=np.float32)
        buf_b = np.empty((width, m), dtype=np.float32)
        z = np.empty(m, dtype=np.float32)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            seed = stream_seed(key0, key1, start + r)
            _draw_one(seed, sizes, bias, law, sigma_w, sigma_b, params)
            _forward_key(params, XT, sizes, bias, act, buf_a, buf_b, z, keys[r])
    return keys
