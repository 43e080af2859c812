# Sourced by the scripts that install the Debian packages they need (`scripts/browser-test.sh`,
# `scripts/aarch64-test.sh`). `apt_install PACKAGE...` runs apt-get, through sudo when not
# root; it fails, saying why, when it cannot install them.
apt_install() {
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "cannot install $*: not root, and sudo is not available" >&2
      return 1
    fi
    sudo="sudo"
  fi
  local start=$SECONDS
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null; }; then
    echo "apt-get could not install $*" >&2
    return 1
  fi
  echo "   installed $* in $((SECONDS - start)) s"
}
