"""The rendered site of the executed notebooks (`make site`): run every notebook against a real
dev server, clean what the build machine left in the outputs, and build static HTML with
Sphinx and myst-nb. Not part of the workshop package: `make lab` installs none of it."""
