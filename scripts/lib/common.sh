# Shared helpers for the project's scripts. Source it; it defines functions only.

# The Debian packages building, testing and demonstrating mod_classify need.
CLASSIFY_APT_PACKAGES=(apache2 apache2-dev libclang-dev clang pkg-config python3 python3-sklearn
    python3-joblib python3-venv curl ca-certificates)

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
