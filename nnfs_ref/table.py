"""The project's one table formatter: reports, verify, bench and mutants print with it."""


def format_rows(header, lines, right=()):
    """A fixed-width text table: ``header`` names, then one tuple of cells per line.

    The project's one table formatter (reports, verify, bench, mutants); the
    columns whose indices are in ``right`` are right-aligned (numbers).
    """
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = "  ".join(f"{{:>{w}}}" if i in right else f"{{:<{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*(str(x) for x in line)) for line in lines]
    return "\n".join(out)
