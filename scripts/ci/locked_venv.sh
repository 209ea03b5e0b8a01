# Sourced by the scripts that build a tool's own virtual environment from a hash lock (.venv-airflow,
# .venv-engines, .venv-bi). One rule for all: Python 3.11 (the locks are compiled for it), rebuilt only when
# the lock changed (a copy of it is kept inside the venv), hashes required, no dependency resolution.
#
#   build_locked_venv <what> <lock> <venv> <python>    # returns 0 whether it built or was up to date

build_locked_venv() {
    local what="$1" lock="$2" venv="$3" python="$4"
    "$python" -c "import sys; sys.exit('Python 3.11 is required for the $what lock, found ' + sys.version.split()[0]) if sys.version_info[:2] != (3, 11) else None"
    if [ -f "$venv/.installed-lock" ] && cmp -s "$lock" "$venv/.installed-lock"; then
        echo "$venv is up to date with $lock"
        return 0
    fi
    echo "Building $venv from $lock (a few minutes the first time)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # (the grep drops pip's notes about find-links folders of this machine's pip.conf that do not exist)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$lock" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    "$venv/bin/python" -m pip check
    cp "$lock" "$venv/.installed-lock"
}
