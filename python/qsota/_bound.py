"""The backend the qsota package is bound to (`qsota._use` sets it): the `_qsota` module or
`qsota.pure`. `qsota.send` and `qsota.verify_file` take their classes from here, so that they
need not import the package that imports them."""

backend = None
