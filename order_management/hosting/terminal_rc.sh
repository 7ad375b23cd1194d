# The start-up file of the workshop's JupyterLab terminals (order_management/hosting/jupyter.py):
# the user's own interactive set-up first, then the workshop's `temporal` and Python first on
# PATH, after anything that set-up put in front (pyenv shims, say).
if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
PATH="$WORKSHOP_TOOLS:$PATH"
export PATH
