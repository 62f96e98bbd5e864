"""The table printed at the end of a run: the SUT's figures per phase and what
the sampling cost."""


def end_table(windows, sampling, whole):
    """windows: the phases' windows, each with the "summary" sut_metrics kept
    (a window without one held no sample and gets no row)."""
    rows = [("phase", "seconds", "RSS peak", "RSS mean", "CPU mean", "CPU max")]
    tree = sampling.children
    if tree:
        rows[0] += ("tree PSS peak", "tree CPU mean")
    for w in windows:
        s = w.get("summary")
        if not s:
            continue
        row = (w["name"], f"{w['end_s'] - w['start_s']:.1f}", _mb(s["peak_rss_bytes"]),
               _mb(s["mean_rss_bytes"]), _pct(s["cpu_mean_percent"]),
               _pct(s["cpu_max_percent"]))
        if tree:
            row += (_mb(s.get("tree_peak_pss_bytes", 0)),
                    _pct(s.get("tree_cpu_mean_percent")))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in
                       enumerate(zip(r, widths))) for r in rows]
    lines.append(f"samples {whole['samples']} at {sampling.hz:g} Hz, missed "
                 f"{whole['missed']}; VmHWM {_mb(whole['hwm_bytes'])}; the sampler's own "
                 f"CPU {whole['sampler_cpu_percent']:.2f} %"
                 + (f" + tree walks {whole['tree_sampler_cpu_percent']:.2f} %" if tree
                    else ""))
    return "\n".join(lines)


def _mb(n):
    return f"{n / 1e6:.1f} MB"


def _pct(x):
    return "-" if x is None else f"{x:.1f} %"
