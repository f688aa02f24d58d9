"""Words for labels (issue 17 item 3): 'digit' only for the bundled MNIST digits; uploaded class labels are labels,
and named classes are called by their names in legends and captions."""
from __future__ import annotations

import numpy as np
from filemakers import bundled_digits, idx_images, idx_labels

from dashboard.components import explore
from vae_core.data import load_bundled, load_upload, name_labels


def test_only_the_bundled_mnist_holds_digits_and_named_classes_are_called_by_name(mnist):
    assert explore.label_word(mnist) == "digit" and explore.item_name(mnist, 0) == "#0 (digit 0)"
    images, labels = bundled_digits(100)
    upload = load_upload([("fashion-images-idx3-ubyte", idx_images(images)),
                          ("fashion-labels-idx1-ubyte", idx_labels(labels))])
    seven = int(np.flatnonzero(labels == 7)[0])
    assert explore.label_word(upload) == "label" and explore.item_name(upload, seven) == f"#{seven} (7)"
    named = name_labels(upload, "T-shirt,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot")
    assert explore.item_name(named, seven) == f"#{seven} (Sneaker)"
    assert "Sneaker ×" in explore.label_summary(named, [seven])
    assert explore.label_word(load_bundled("basicmotions")) == "label"  # sensor classes are never digits
    assert explore.label_word(load_bundled("bleeding")) == "anomaly flag"
