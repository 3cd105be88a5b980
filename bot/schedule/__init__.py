"""The schedule's rules: school days and holidays, what goes out when (defaults and a
partnership's own plan), the preview, the `rooster` dialogue and `achtje schedule`.

Pure domain: sending is the scheduler's job (`scheduler/`)."""
