"""Neural-network building blocks shared by the chapters (and nothing else).

* `gentorch.nets.mlp`: the `MLP`, for 2-D toy data and latent codes.
* `gentorch.nets.images`: encoders and decoders for 8x8 (bundled digits) and 28x28
  (MNIST) images in the model range [-1, 1] (`MLPEncoder` / `MLPDecoder` on flattened
  pixels, `ConvEncoder` / `ConvDecoder`), and `DiscretizedLogistic` (a decoder's last
  layer for an ordinal likelihood over grey levels).
* `gentorch.nets.embedding`: the sinusoidal timestep embedding of diffusion models.
* `gentorch.nets.denoisers`: time-conditioned networks for diffusion models, an
  `DenoisingMLP` for 2-D points and flattened small images and a small `UNet`, both
  with an optional class label, and `NoisyClassifier`, a classifier of noisy data
  told the timestep (for classifier guidance).

Each name is also ``gt.nets.<name>``. Plain networks keep their layers in an
`nn.Sequential` called `net`, so ``print(model)`` shows the whole architecture. Devices
and dtypes follow the parameters and the input: move a module with ``.to(device)``.
"""

from gentorch.nets.denoisers import DenoisingMLP, NoisyClassifier, UNet
from gentorch.nets.embedding import SinusoidalEmbedding, sinusoidal_embedding
from gentorch.nets.images import (
    ConvDecoder,
    ConvEncoder,
    DiscretizedLogistic,
    MLPDecoder,
    MLPEncoder,
)
from gentorch.nets.mlp import MLP

__all__ = [
    "ConvDecoder",
    "ConvEncoder",
    "DenoisingMLP",
    "DiscretizedLogistic",
    "MLP",
    "MLPDecoder",
    "MLPEncoder",
    "NoisyClassifier",
    "SinusoidalEmbedding",
    "UNet",
    "sinusoidal_embedding",
]
