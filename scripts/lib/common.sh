# Shared helpers for the project's scripts. Source it; it defines functions only.

# The Debian packages building, testing and demonstrating mod_classify need.
CLASSIFY_APT_PACKAGES=(apache2 apache2-dev libclang-dev clang pkg-config python3 python3-sklearn
    python3-joblib python3-pandas python3-pytest python3-venv curl ca-certificates
    chromium chromium-driver python3-selenium)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of the given Debian packages are missing.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo ">> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Rust comes from rustup (Debian's cargo is too old for the dependencies).
ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install Rust with rustup (https://rustup.rs), then re-run" >&2
        exit 1
    fi
}

# sklearn is Debian's python3-sklearn, importable from the system interpreter.
SYSTEM_PYTHON=/usr/bin/python3

# The second sklearn the exporter and the golden parity tests run under: pip's newest
# scikit-learn (numpy 2), with skops and pandas, in a virtualenv inside the repository
# (git-ignored), on Python 3.13 when the machine has it (users fit models in their own newer
# environments), else on the system Python. Prints the venv's python.
SKLEARN_VENV=.venv-sklearn
ensure_sklearn_venv() {
    local python=$SYSTEM_PYTHON candidate
    # A pyenv shim is on PATH even when its version is not selected, and then fails to run:
    # take the first candidate that actually starts and can make a venv.
    for candidate in "$(command -v python3.13 || true)" "$HOME"/.pyenv/versions/3.13*/bin/python3; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
    if [ ! -x "$SKLEARN_VENV/bin/python" ] ||
        ! "$SKLEARN_VENV/bin/python" -c 'import sklearn, skops, pandas, pytest' 2>/dev/null; then
        echo ">> creating $SKLEARN_VENV with pip's newest scikit-learn ($python)" >&2
        rm -rf "$SKLEARN_VENV"
        "$python" -m venv "$SKLEARN_VENV" >&2 || return 1
        "$SKLEARN_VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade \
            scikit-learn skops pandas joblib pytest >&2 || return 1
    fi
    echo "$PWD/$SKLEARN_VENV/bin/python"
}
