"""A plugin whose import fails, as when one of its dependencies is missing."""

raise ImportError("sknn_plugin_broken needs the package 'not_installed_dependency'")
