"""One module per detector family, named as ``decoder.family`` in the manifest (see
``camera.detect.decoding``)."""
