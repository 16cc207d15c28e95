"""JAX as the commands and the tests run it: float64, quick compilation, the on-disk
compilation cache and a process pool (importable without importing JAX)."""

from nnfs_ref.check.twin import enable_x64

#: Environment variable naming the folder of JAX's compilation cache ("off": none).
CACHE_VARIABLE = "NNFS_REF_JAX_CACHE"


def compilation_cache_folder():
    """Where :func:`enable_compilation_cache` keeps JAX's compiled references: the folder
    ``$NNFS_REF_JAX_CACHE`` names, else ``nnfs-ref/jax`` in the user's cache folder
    (``$XDG_CACHE_HOME``, else ``~/.cache``); None when the variable says ``off``."""
    import os

    folder = os.environ.get(CACHE_VARIABLE)
    if folder is not None:
        return None if folder.strip().lower() in ("", "off", "0", "no") else folder
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnfs-ref", "jax")


def enable_compilation_cache():
    """Keep every compiled reference on disk (JAX's persistent compilation cache), so
    that a later run, or another process, loads it instead of compiling it again.

    The commands and the tests call this; :func:`nnfs_ref.check_layer` and the
    other library functions leave the caller's JAX configuration alone. A folder that
    cannot be created means no cache, not an error. Returns the folder used, or None.
    """
    import os

    import jax

    folder = compilation_cache_folder()
    if folder is None:
        return None
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    # every compilation is worth keeping: each one here takes 30 to 300 ms
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


#: XLA's flag for compiling without LLVM's optimization passes.
QUICK_COMPILE_FLAG = "--xla_backend_optimization_level=0"


def quick_compilation():
    """Have XLA compile without LLVM's optimization passes (``XLA_FLAGS``), unless the
    user's ``XLA_FLAGS`` already set the level.

    Each reference runs a few times on small arrays, so compiling is nearly all of its
    cost; this makes ``verify``'s first run about an eighth faster, and changes results
    only in their last bits, far inside the tolerances. It takes effect if called before
    JAX compiles anything in this process, and processes started later inherit it.
    Imports nothing.
    """
    import os

    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {QUICK_COMPILE_FLAG}".strip()


def prepare_jax():
    """JAX as the commands and the tests run it: quick compilation (:func:`quick_compilation`,
    first, before anything is compiled), float64 (:func:`enable_x64`) and the compilation
    cache (:func:`enable_compilation_cache`). Returns the cache folder, or None.

    Also, at the process's exit, the objects JAX's tracing left behind go with the
    process, without a last garbage collection over them (``gc.freeze``): that halves
    the exit of a process that traced verify's references (0.17 s to 0.08 s).
    """
    import atexit
    import gc

    atexit.register(gc.freeze)
    quick_compilation()
    enable_x64()
    return enable_compilation_cache()


def process_pool(workers):
    """A pool of ``workers`` fresh processes, spawned (JAX does not survive a fork).
    Importing this module does not import JAX: a caller can start the pool first."""
    import concurrent.futures
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"))


def require_x64():
    """Raise unless JAX computes in float64 (else float64 tolerances are meaningless)."""
    import jax

    if not jax.config.jax_enable_x64:
        raise RuntimeError(
            "the reference must run in float64: call reference.enable_x64() "
            "(jax.config.update('jax_enable_x64', True)) before creating any array"
        )
