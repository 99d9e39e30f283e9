"""Saving and loading an MLP as plain JSON, never pickle: loading a file can only ever give numbers."""
import contextlib
import errno
import json
import math
import os
import random
import stat

from micrograd.floats import as_float
from micrograd.nn import MLP, Layer, Neuron, as_size

FORMAT = 'micrograd.mlp'
VERSION = 1  # raised whenever the layout changes, so an old micrograd refuses a newer file by name


def save(model, path):
    """write model, an MLP, to path as JSON: a format name and version, the architecture
    (model.config: nin, nouts, act, out_act) and every parameter by its state_dict() name

    Floats are written as repr() writes them, which reads back to the same bits. A nan or
    infinite parameter raises ValueError: the file stays strict JSON, readable by any parser.
    The text goes to a temporary file beside path, is flushed to disk, then renamed over path,
    so a crash or an error leaves the old file or the new one, never a mix of both. A path
    that is a symlink writes the file it points to (the link stays a link), and a file
    replaced keeps its permission bits. What open(path, 'w') would refuse (an empty path, a
    directory, a directory that does not exist) raises its OSError naming path, as does a failed
    write; so does a path that is a device, a pipe or a socket, which a rename would replace.
    """
    text = _to_json(model)  # whatever can go wrong with the model does, before any file is touched
    write_atomically(os.fsdecode(path), text)  # a str: bytes paths too, as open() takes them


def load(path):
    """a new MLP from a file save() wrote

    The whole file is checked before the model is built: anything else (not JSON, truncated,
    another format or version, inconsistent sizes, a parameter missing, extra, or not a finite
    number) raises ValueError naming the file and the problem. Python's global random state
    is left as it was.
    """
    path = os.fspath(path)
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode('utf-8'), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
        return _from_document(doc)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{path} is not a micrograd model file: {e}") from None


def _to_json(model):
    parameters = {}
    for name, x in model.state_dict().items():
        x = as_float(x, f"parameter {name}")  # a bool, a str, 10**400 set as .data: refused by name
        if not math.isfinite(x):
            raise ValueError(f"parameter {name} is {x!r}; only finite numbers can be saved "
                             f"(a nan usually means training diverged)")
        parameters[name] = x  # a plain float: json writes its repr, which round-trips
    doc = {'format': FORMAT, 'version': VERSION, 'architecture': architecture(model), 'parameters': parameters}
    return json.dumps(doc, indent=1, allow_nan=False) + '\n'


def _from_document(doc):
    _check_keys(doc, ('format', 'version', 'architecture', 'parameters'), 'the file')
    if doc['format'] != FORMAT:
        raise ValueError(f"format is {doc['format']!r}, expected {FORMAT!r}")
    version = as_size(doc['version'], 'version')  # a bool or a float 1.0 is refused too
    if version > VERSION:
        raise ValueError(f"it has format version {version}, from a newer micrograd; this one reads "
                         f"version {VERSION}: upgrade micrograd")

    arch = doc['architecture']
    _check_keys(arch, ('nin', 'nouts', 'act', 'out_act'), 'architecture')
    nouts = arch['nouts']
    if not isinstance(nouts, list) or not nouts:
        raise ValueError(f"architecture: nouts must be a non-empty list of layer sizes, got {nouts!r:.80}")
    sizes = [as_size(arch['nin'], 'architecture: nin')]
    sizes += [as_size(n, f"architecture: nouts[{i}]") for i, n in enumerate(nouts)]

    parameters = doc['parameters']
    if not isinstance(parameters, dict):
        raise ValueError(f"parameters must be an object of name: number, got {type(parameters).__name__}")
    count = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
    if len(parameters) != count:  # checked before building: the model is no larger than the file
        raise ValueError(f"an MLP({sizes[0]}, {sizes[1:]}) has {count} parameters, "
                         f"the file holds {len(parameters)}")

    # MLP checks act and out_act; a private generator: the weights are overwritten, and the
    # global random state stays as it was
    model = MLP(sizes[0], sizes[1:], act=arch['act'], out_act=arch['out_act'], rng=random.Random(0))
    model.load_state_dict(parameters)  # checks every name and number before setting any
    return model


def architecture(model):
    """the arguments that rebuild model, an MLP: model.config, checked to still describe its layers

    Raises TypeError for anything but an MLP, and for a subclass (of MLP, Layer or Neuron) that
    overrides __call__ or _forward or has other parameters: written as a plain MLP, what it adds
    would be lost. ValueError when its layers were edited into something MLP(**model.config) does
    not build. interop.to_torch relies on these checks too.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"expected an MLP, got {type(model).__name__}")
    config = getattr(model, 'config', None)  # None: a subclass whose __init__ skipped MLP's
    if not isinstance(config, dict):
        raise TypeError(f"this {type(model).__name__} has no config dict of the arguments MLP was built with")
    # a private generator keeps the global random state as it was; the repr names every
    # layer's size and every neuron's activation
    rebuilt = MLP(**config, rng=random.Random(0))
    if repr(rebuilt) != repr(model):
        raise ValueError(f"the layers of this MLP differ from what its config {config} builds; "
                         f"only a model that MLP(**model.config) rebuilds can be saved or converted")
    _check_computes_as_mlp(model)
    names = [name for name, _ in model.named_parameters()]
    plain = [name for name, _ in rebuilt.named_parameters()]
    if names != plain:  # load() and torch would build only an MLP's; the rest would be lost
        extra, missing = [n for n in names if n not in plain], [n for n in plain if n not in names]
        raise TypeError(f"this {type(model).__name__} has {len(names)} parameters where its MLP has "
                        f"{len(plain)} ({len(extra)} extra {extra[:3]}, {len(missing)} missing {missing[:3]}); "
                        + _SUBCLASS_HINT)
    return rebuilt.config  # a fresh dict, its sizes plain ints


# a subclass may add methods, attributes and labels; one that computes differently is not an MLP's file
_SUBCLASS_HINT = ("save and to_torch write a plain MLP, which would drop that; keep the numbers with "
                  "json.dump(model.state_dict(), f) and rebuild your class, then model.load_state_dict(...)")


def _check_computes_as_mlp(model):
    """refuse a model, a layer or a neuron whose class overrides how an MLP computes, naming it"""
    name = type(model).__name__
    parts = [(name, model, MLP)] + [(f"layers[{i}] of this {name}", layer, Layer)
                                    for i, layer in enumerate(model.layers)]
    parts += [(f"layers[{i}].neurons[{j}] of this {name}", n, Neuron)
              for i, layer in enumerate(model.layers) for j, n in enumerate(layer.neurons)]
    for where, obj, base in parts:
        if not isinstance(obj, base):
            raise TypeError(f"{where} is a {type(obj).__name__}, not a {base.__name__}")
        changed = [m for m in ('__call__', '_forward') if getattr(type(obj), m, None) is not getattr(base, m, None)]
        if changed:
            what = where if obj is model else f"{where}, a {type(obj).__name__},"
            raise TypeError(f"{what} overrides {base.__name__}.{changed[0]} and may compute something else; "
                            + _SUBCLASS_HINT)


def write_atomically(path, text):
    """text to path (a str) as save() writes a model: a temporary file beside path's target, flushed,
    then renamed over it, so an error leaves the old file whole; explore's Explorer.save shares it"""
    target = _file_to_replace(path)
    directory = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # a file replaced keeps its permission bits
    except FileNotFoundError:
        mode = None
    if mode is not None and not os.access(target, os.W_OK):  # a read-only file: open(path, 'w') refuses it too
        raise PermissionError(errno.EACCES, "the file is read-only", path)
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{os.urandom(6).hex()}.tmp")
    try:
        # O_EXCL never clobbers another file; mode 0o666 lets the umask decide, as open() would
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:  # a directory we may not write in, a read-only file system
        raise _naming(e, path) from None
    try:
        with os.fdopen(fd, 'w', encoding='utf-8', newline='\n') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)  # atomic: readers see the old file or the new one
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and tmp in (e.filename, e.filename2):
            raise _naming(e, path) from None
        raise
    if hasattr(os, 'O_DIRECTORY'):  # POSIX: make the rename itself survive a power cut
        with contextlib.suppress(OSError):  # some file systems refuse to fsync a directory
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _file_to_replace(path):
    """the file save() replaces: path, or the file the symlink at path points to (the link stays a
    link); what open(path, 'w') would refuse is refused here, naming path, before any file is made"""
    if not path:
        raise FileNotFoundError(errno.ENOENT, "an empty path names no file", path)
    if path.endswith(('/', os.sep)):  # realpath would drop the slash and write a file of that name
        raise IsADirectoryError(errno.EISDIR, "a path ending in a slash names a directory, not a file", path)
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "a directory, not a file", path)
    if os.path.islink(target):  # realpath stops where symlinks loop
        raise OSError(errno.ELOOP, "a loop of symlinks", path)
    if os.path.exists(target) and not os.path.isfile(target):  # os.replace would put a file in its place
        raise OSError(errno.EINVAL, "not a regular file (a device, a pipe or a socket); save() "
                                    "replaces a file whole", path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        where = f" (a symlink to {target})" if os.path.islink(path) else ""
        if os.path.exists(directory):
            raise NotADirectoryError(errno.ENOTDIR, f"{directory} is not a directory{where}", path)
        raise FileNotFoundError(errno.ENOENT, f"the directory {directory} does not exist{where}", path)
    return target


def _naming(error, path):
    """error as raised for the temporary file, about the path the user gave instead"""
    return OSError(error.errno, error.strerror, path)


def _check_keys(obj, keys, what):
    if not isinstance(obj, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    extra = [k for k in obj if k not in keys]
    if missing or extra:
        raise ValueError(f"{what} must have exactly the keys {list(keys)}; missing {missing}, unexpected {extra[:3]}")


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows, and not a weight a model can have")


def _unique_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:  # json would keep the last silently: a file edited or merged by hand
            raise ValueError(f"the key {k!r} appears twice")
        obj[k] = v
    return obj
