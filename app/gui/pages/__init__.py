"""The wizard pages, one class per module (``*_page.py``), in the order the user meets them."""
