"""A package's submodule imported on first use, for the `__getattr__` of qsota and qsota.pure.

MicroPython asks a package's `__getattr__` before it imports a submodule for
`from package import x`, and does not catch its AttributeError: so the submodule is imported
here."""


def submodule(space, name):
    """The submodule `name` of the package whose globals are `space`, imported. No such
    submodule is an AttributeError; an ImportError from inside one (its own `import socket`
    failing) goes to the caller as it is, naming what is missing."""
    full = space["__name__"] + "." + name
    try:
        __import__(full)
    except ImportError as e:
        if e.args and ("'%s'" % full) in str(e.args[0]):
            raise AttributeError(name)
        raise
    return space[name]
