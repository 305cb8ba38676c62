"""A package's submodule imported on first use, for the `__getattr__` of qsota and qsota.pure.

MicroPython asks a package's `__getattr__` before it imports a submodule for
`from package import x`, and does not catch its AttributeError: so the submodule is imported
here."""


def submodule(space, name):
    """The submodule `name` of the package whose globals are `space`, imported."""
    try:
        __import__(space["__name__"] + "." + name)
    except ImportError:
        raise AttributeError(name)
    return space[name]
