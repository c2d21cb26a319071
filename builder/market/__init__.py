"""The template market and moving configuration between tenants.

A package (``package``) is data only: a manifest, app definitions, roles and seed data.
``installer`` installs, upgrades (three-way merge, ``merge``) and uninstalls packages;
``transfer`` exports a tenant's apps as a package and imports or clones them elsewhere;
``service`` is the entry point of the HTTP API and the command line.
"""
