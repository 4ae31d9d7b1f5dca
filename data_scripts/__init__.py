"""Command-line tools that prepare image folders before training a VAE.

Each tool is a script (``python data_scripts/resize.py --help``) that also
runs as a module (``python -m data_scripts.resize``). They need only Pillow
and tqdm, so they start fast; see ``data_scripts/README.md``.
"""
