"""The one safetensors writer of the reference scripts (stdlib only, so hfquant_ref.py needs no
torch): 8 bytes of header length, the JSON header (names sorted, offsets in order, padded with
spaces to a multiple of 8), then the raw data; Debian has no python3-safetensors."""
import json
import struct


def write_safetensors(path, tensors):
    """tensors: name -> (dtype, shape, bytes)"""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, b = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
