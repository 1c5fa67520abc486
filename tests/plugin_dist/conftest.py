# The plugin distributions are installed by tests/test_registry.py, not collected:
# importing sknn_plugin_broken fails on purpose.
collect_ignore = ["good", "broken"]
