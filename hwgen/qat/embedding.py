"""The quantized embedding table of token-input models (a language model's first layer).

One constructor, shared by the model builder and the hardware path's tests: a Brevitas
QuantEmbedding whose table is quantized per tensor to a power-of-two scale (a *FixedPoint
quantizer, like every other quantizer of hwgen's models), so a lookup returns codes times that
scale and the first recurrent layer's input quantizer takes it as any other input.
"""
from __future__ import annotations

import brevitas.nn as qnn
import brevitas.quant as bq


def quant_embedding(vocab: int, dim: int, bit_width: int) -> qnn.QuantEmbedding:
    """Return a table of vocab rows of dim values, each a signed bit_width-bit code times one
    power-of-two scale."""
    return qnn.QuantEmbedding(vocab, dim, weight_quant=bq.Int8WeightPerTensorFixedPoint,
                              weight_bit_width=bit_width)
