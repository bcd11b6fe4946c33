"""The ``edu`` command line: a thin layer over the package, one module per subcommand."""
