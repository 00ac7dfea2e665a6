"""Numba kernels: random fully connected networks evaluated on all inputs.

Pure array-in / array-out.  A network with input dimension d, hidden widths
h_1..h_L and one output unit stores its parameters in one flat vector, layer
by layer: the weight matrix (fan_in x fan_out, row-major) and then, when
biases are used, the bias vector.  The perceptron is the case L = 0.

The forward pass works on the transposed input matrix ``XT`` (d x m), padded
with zero columns to whole register blocks, and evaluates each layer with the
register-blocked micro-kernel of :mod:`pysimbias.kernels.vector`.  Arithmetic
is float32 with fused multiply-adds summed over the fan-in in order; the
output bit of input i is 1 iff the final pre-activation is > 0.

A perceptron on inputs whose coordinates are all -1, 0 or 1 (the cube
encodings, one-hot) has a faster exact path, :func:`sample_tree_keys`: over
such inputs every multiply-add rounds exactly as adding or subtracting the
weight does, so the pre-activations of all inputs are the nodes of one tree of
partial sums (:func:`sum_tree`), evaluated for 64 networks at once.

The helpers that draw parameters and evaluate layers are ordinary functions
that the kernels call, not inlined into them: inlined, every kernel held
copies of the forward pass and of the normal generator in its parallel loop,
which doubled its compile time, and a call costs nothing next to a forward
pass over all inputs.
"""

import functools
import math

import numba
import numpy as np

from . import prange_only
from .activations import ACTIVATIONS, apply_activation
from .rng import fill_normal_columns, fill_normal_work, fill_uniform, normal_work_size, stream_seed
from .vector import MAX_ROWS, TREE_LANES, dense_tile, pack_positive, padded_length, tree_keys

LAWS = {"gaussian": 0, "uniform": 1}

# Samples per parallel work item.  Results never depend on it.
_BLOCK = TREE_LANES
#: Networks with at most this many Gaussian parameters draw them for a block
#: of samples at once (:func:`pysimbias.kernels.rng.fill_normal_columns`).
COLUMN_PARAMS = 64
#: Largest sigma_w or sigma_b the sum tree is used for: beyond it a scaled
#: draw can overflow float32, and the fused path's inf * 0 = NaN has no
#: counterpart in the tree, which skips zero coordinates.
MAX_TREE_SIGMA = 1e30
#: Largest sum tree :func:`sum_tree` builds (64 floats of work space per node).
MAX_TREE_NODES = 1 << 16
# Parallel work items of sample_tree_keys, each with its own work space.
_TREE_PARTS = 256

__all__ = [
    "ACTIVATIONS",
    "COLUMN_PARAMS",
    "LAWS",
    "layer_sizes",
    "param_count",
    "param_scales",
    "draw_params",
    "keys_from_params",
    "sample_keys",
    "MAX_TREE_SIGMA",
    "sum_tree",
    "sample_tree_keys",
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
def param_scales(sizes, bias, sigma_w, sigma_b):
    """The factor every standard draw of the flat parameter vector is multiplied by.

    ``sigma_w / sqrt(fan_in)`` for weights, ``sigma_b`` for biases (DESIGN.md),
    rounded to float32.
    """
    scales = np.empty(param_count(sizes, bias), dtype=np.float32)
    off = 0
    for layer in range(sizes.shape[0] - 1):
        fan_in = sizes[layer]
        n_w = fan_in * sizes[layer + 1]
        scales[off:off + n_w] = np.float32(sigma_w / math.sqrt(fan_in))
        off += n_w
        if bias:
            scales[off:off + sizes[layer + 1]] = np.float32(sigma_b)
            off += sizes[layer + 1]
    return scales


@numba.njit
def _draw_one(seed, law, scales, params, work):
    """Draw one network's parameters: standard draws times ``scales``.

    ``work`` is a uint64 array of :func:`normal_work_size` (len(params)) entries.
    """
    if law == 0:
        fill_normal_work(seed, params, np.float32(1.0), work)
    else:
        fill_uniform(seed, params, np.float32(1.0))
    for k in range(np.uint64(params.shape[0])):
        params[k] *= scales[k]


@numba.njit
def _draw_columns(key0, key1, first, law, scales, cols, params, work):
    """Column j of ``cols`` = the parameters of sample ``first + j`` of the chunk.

    Gaussian parameters of networks with at most :data:`COLUMN_PARAMS` of
    them are drawn for all columns at once, across the samples' streams,
    which gives the same values several times faster than drawing a few
    values per stream.  ``params`` and ``work`` are :func:`_draw_one`'s.
    """
    n_par, lanes = cols.shape
    if law == 0 and n_par <= COLUMN_PARAMS:
        seeds = np.empty(lanes, dtype=np.uint64)
        for j in range(lanes):
            seeds[j] = stream_seed(key0, key1, first + j)
        fill_normal_columns(seeds, cols, np.empty(((n_par + 1) // 2, lanes), dtype=np.uint64))
        for k in range(n_par):
            for j in range(lanes):
                cols[k, j] *= scales[k]
    else:
        for j in range(lanes):
            _draw_one(stream_seed(key0, key1, first + j), law, scales, params, work)
            cols[:, j] = params


@numba.njit
def _dense_layer(out, out_row, params, off, fan_in, fan_out, bias, cur, cur_row, relu):
    """``out[out_row + j] = b[j] + sum_a W[a, j] * cur[cur_row + a]`` for every unit j, ReLU'd when ``relu``.

    The weights W (fan_in x fan_out, row-major) start at ``params[off]`` and
    the biases follow them.  Units are evaluated in tiles of at most
    :data:`MAX_ROWS`, as evenly sized as possible.
    """
    b_off = off + fan_in * fan_out if bias else -1
    n_tiles = (fan_out + MAX_ROWS - 1) // MAX_ROWS
    j = 0
    for t in range(n_tiles):
        rows = (fan_out - j) // (n_tiles - t)
        dense_tile(rows, out, out_row + j, params, off + j, fan_out, b_off + j if bias else -1,
                   cur, cur_row, fan_in, relu)
        j += rows


@numba.njit
def _forward_key(params, sizes, bias, act, scratch, keys, r, m):
    """Evaluate one network on the first ``m`` inputs and pack its output bits into ``keys[r]``.

    ``scratch`` is the work array of :func:`_scratch`, whose first rows hold
    the inputs.  Every layer reads and writes rows of that one array, so the
    per-sample loop creates no array views.  ReLU is applied inside the
    dense tile, every other activation after it
    (:func:`~pysimbias.kernels.activations.apply_activation`), which
    compiles only activation ``act`` when that is a literal.
    """
    d = sizes[0]
    width = (scratch.shape[0] - d - 1) // 2
    # int64 and bool values rather than literals (0, 1, False): _dense_layer is compiled for one signature
    off = np.int64(0)
    n_layers = sizes.shape[0] - 1
    in_row = np.int64(0)
    out_row = d
    relu = act == 0
    for layer in range(n_layers - 1):
        fan_in = sizes[layer]
        fan_out = sizes[layer + 1]
        _dense_layer(scratch, out_row, params, off, fan_in, fan_out, bias, scratch, in_row, relu)
        apply_activation(scratch, out_row, out_row + fan_out, act)
        off += fan_in * fan_out + (fan_out if bias else 0)
        in_row = out_row
        out_row = d + width if out_row == d else d
    z_row = d + 2 * width
    _dense_layer(scratch, z_row, params, off, sizes[n_layers - 1], np.int64(1), bias, scratch, in_row,
                 np.bool_(False))
    pack_positive(scratch, z_row, keys, r, m)


@numba.njit(cache=True)
def _scratch(sizes, XT):
    """Work array of :func:`_forward_key`, one per thread.

    Rows: the d inputs (``XT``, padded with zero columns to
    :func:`~pysimbias.kernels.vector.padded_length`), two layer buffers of
    the largest hidden width, the output row.
    """
    d, m = XT.shape
    width = 1
    for layer in range(1, sizes.shape[0] - 1):
        width = max(width, sizes[layer])
    scratch = np.zeros((d + 2 * width + 1, padded_length(m)), dtype=np.float32)
    scratch[:d, :m] = XT
    return scratch


@numba.njit(cache=True, parallel=prange_only())
def draw_params(key0, key1, start, count, sizes, bias, law, sigma_w, sigma_b):
    """Parameters of samples ``start .. start+count-1`` of a chunk, one row each.

    These are exactly the parameters that :func:`sample_keys` evaluates.
    """
    scales = param_scales(sizes, bias, sigma_w, sigma_b)
    n_par = scales.shape[0]
    out = np.empty((count, n_par), dtype=np.float32)
    for r in numba.prange(count):
        seed = stream_seed(key0, key1, start + r)
        work = np.empty(normal_work_size(n_par), dtype=np.uint64)
        _draw_one(seed, law, scales, out[r], work)
    return out


@numba.njit(cache=True, parallel=prange_only())
def keys_from_params(params, XT, sizes, bias, act):
    """Packed functions of networks given by rows of ``params``."""
    count = params.shape[0]
    m = XT.shape[1]
    n_w = (m + 63) // 64
    keys = np.empty((count, n_w), dtype=np.uint64)
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(n_blocks):
        scratch = _scratch(sizes, XT)
        row = np.empty(params.shape[1], dtype=np.float32)
        for r in range(blk * _BLOCK, min(count, (blk + 1) * _BLOCK)):
            row[:] = params[r]
            _forward_key(row, sizes, bias, act, scratch, keys, r, m)
    return keys


def sample_keys(key0, key1, start, count, XT, sizes, bias, act, law, sigma_w, sigma_b):
    """Draw networks ``start .. start+count-1`` of a chunk and return their packed functions.

    Parameters are generated inside the kernel, one stream per sample, and
    never stored beyond one block of networks at a time.  Gaussian
    parameters of small networks (at most :data:`COLUMN_PARAMS`) are drawn
    for a whole block at once, across the samples' streams, which gives the
    same values several times faster than drawing a few values per stream.
    The kernel is compiled for activation ``act`` alone (:func:`_sampler`).
    """
    return _sampler(int(act))(key0, key1, start, count, XT, sizes, bias, law, sigma_w, sigma_b)


@functools.cache
def _sampler(act):
    """The kernel of :func:`sample_keys` for activation code ``act``, which it holds as a constant.

    Compiled for one activation, the kernel holds only that activation's
    loop; Numba's cache keeps one entry per activation (the key of a
    closure's entry includes the values it closes over).
    """

    @numba.njit(cache=True, parallel=prange_only(), nogil=True)
    def sample_keys_of_act(key0, key1, start, count, XT, sizes, bias, law, sigma_w, sigma_b):
        keys = np.empty((count, (XT.shape[1] + 63) // 64), dtype=np.uint64)
        scales = param_scales(sizes, bias, sigma_w, sigma_b)
        for blk in numba.prange((count + _BLOCK - 1) // _BLOCK):
            _sample_block(key0, key1, start, blk * _BLOCK, min(count, (blk + 1) * _BLOCK), XT, sizes, bias, act,
                          law, scales, keys)
        return keys

    return sample_keys_of_act


@numba.njit
def _sample_block(key0, key1, start, lo, hi, XT, sizes, bias, act, law, scales, keys):
    """Rows ``lo .. hi-1`` (at most one block) of :func:`sample_keys`' keys.

    The body of the kernel's parallel loop, as a function of its own: Numba's
    parallel passes then analyse a call, not the whole forward pass.
    """
    n_par = scales.shape[0]
    by_columns = law == 0 and n_par <= COLUMN_PARAMS
    params = np.empty(n_par, dtype=np.float32)
    work = np.empty(normal_work_size(n_par), dtype=np.uint64)
    scratch = _scratch(sizes, XT)
    cols = np.empty((n_par if by_columns else 0, _BLOCK), dtype=np.float32)
    if by_columns:
        _draw_columns(key0, key1, start + lo, law, scales, cols, params, work)
    for r in range(lo, hi):
        if by_columns:
            params[:] = cols[:, r - lo]
        else:
            _draw_one(stream_seed(key0, key1, start + r), law, scales, params, work)
        _forward_key(params, sizes, bias, act, scratch, keys, r, XT.shape[1])


def sum_tree(XT, max_nodes=MAX_TREE_NODES):
    """The tree of partial sums that evaluates a linear unit on inputs with coordinates in {-1, 0, 1}.

    The unit's pre-activation on input i, summed over the coordinates in
    order and started from the bias, passes through the partial sums of the
    input's leading coordinates; inputs with the same leading coordinates
    share them, and a zero coordinate adds nothing.  Node 0 is the bias and
    node k + 1 is node ``src[k]`` plus weight ``coord[k]`` (minus it where
    ``flip[k]`` is ``-2**31``); input i ends at node ``out_node[i]``.  On
    the cube {0,1}^n the tree has 2^n nodes: 2^n - 1 additions.

    Parameters
    ----------
    XT : ndarray, shape (d, m)
        The inputs, one per column.
    max_nodes : int
        Give up on larger trees.

    Returns
    -------
    (src, coord, flip, out_node) : tuple of int32 ndarrays, or None
        None when some coordinate is not -1, 0 or 1, or the tree would have
        more than ``max_nodes`` nodes.
    """
    XT = np.asarray(XT)
    if not np.isin(XT, (-1.0, 0.0, 1.0)).all():
        return None
    node = np.zeros(XT.shape[1], dtype=np.int64)
    src, coord, flip = [], [], []
    n_nodes = 1
    for a, x in enumerate(XT):
        moving = x != 0
        children, inverse = np.unique(2 * node[moving] + (x[moving] < 0), return_inverse=True)
        src.append(children >> 1)
        coord.append(np.full(children.shape[0], a))
        flip.append(children & 1)
        node[moving] = n_nodes + inverse.ravel()
        n_nodes += children.shape[0]
        if n_nodes > max_nodes:
            return None
    flip = np.concatenate(flip) * np.iinfo(np.int32).min
    return tuple(np.ascontiguousarray(t, dtype=np.int32)
                 for t in (np.concatenate(src), np.concatenate(coord), flip, node))


@numba.njit(cache=True, parallel=prange_only(), nogil=True)
def sample_tree_keys(key0, key1, start, count, src, coord, flip, out_node, sizes, bias, law, sigma_w, sigma_b):
    """:func:`sample_keys` of a perceptron, by the sum tree ``(src, coord, flip, out_node)``.

    The tree is :func:`sum_tree` of the inputs; ``sizes`` is ``(d, 1)``.  The
    keys are those :func:`sample_keys` gives on the same inputs, bit for bit.
    """
    m = out_node.shape[0]
    n_blocks = (count + _BLOCK - 1) // _BLOCK
    keys = np.empty((n_blocks * _BLOCK, (m + 63) // 64), dtype=np.uint64)
    scales = param_scales(sizes, bias, sigma_w, sigma_b)
    n_par = scales.shape[0]
    root = sizes[0] if bias else -1
    n_parts = min(n_blocks, _TREE_PARTS)
    for part in numba.prange(n_parts):
        params = np.empty(n_par, dtype=np.float32)
        work = np.empty(normal_work_size(n_par), dtype=np.uint64)
        cols = np.empty((n_par, _BLOCK), dtype=np.float32)
        vals = np.empty((src.shape[0] + 1, _BLOCK), dtype=np.float32)
        for blk in range(part * n_blocks // n_parts, (part + 1) * n_blocks // n_parts):
            _draw_columns(key0, key1, start + blk * _BLOCK, law, scales, cols, params, work)
            tree_keys(vals, cols, root, src, coord, flip, out_node, keys, blk * _BLOCK)
    return keys[:count]
