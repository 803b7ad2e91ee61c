"""The model zoo: classic CNNs registered by name with their published reference figures."""

# Imported for their registrations, in the order the networks were published (the order `list` shows).
from archscope.zoo import lenet, alexnet, vgg, googlenet, resnet, cifar_resnet, inception_v4, blocks  # noqa: F401, I001
from archscope.zoo.registry import ModelEntry, Reference, ZooListing, get_entry, list_entries, normalize_name, register

__all__ = ["ModelEntry", "Reference", "ZooListing", "get_entry", "list_entries", "normalize_name", "register"]
