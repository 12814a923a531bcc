"""gentorch: small, readable building blocks for the gentorch book.

The version string is the book edition. Importing gentorch has no side effects: no
global seeds, no rcParams, no environment variables read.

Modules: ``utils`` (seeding, noise, devices, shapes), ``data`` (toy sets, digits,
MNIST), ``nets`` (MLP, image encoders/decoders, the discretized-logistic head, time
embedding, denoisers), ``distributions`` (log-densities, closed-form KL,
reparameterization, bits/dim), ``divergences`` (KL, JS, f-divergences, 1-D
Wasserstein), ``ae`` (autoencoders, PCA, corruption), ``arm`` (masked autoregressive
networks), ``vae`` (VAE, negative ELBO, IWAE bound), ``vq`` (vector quantizer,
codebook usage), ``diffusion`` (noise schedules, the DDPM scheduler, loss and
sampler), ``flow`` (flow matching: straight paths, the velocity loss, ODE samplers),
``gan`` (GAN losses, networks and training steps), ``metrics`` (the digits
classifier, mode coverage), ``mode_collapse`` (the ring and grid benchmark of the GAN
papers: its methods and one training run), ``train`` (History, train_loop), ``plot``
(figures), ``widgets`` (explorers).
"""

from . import (
    ae,
    arm,
    data,
    diffusion,
    distributions,
    divergences,
    flow,
    gan,
    metrics,
    mode_collapse,
    nets,
    plot,
    train,
    utils,
    vae,
    vq,
    widgets,
)
from .train import History, train_loop
from .utils import (
    count_parameters,
    eval_mode,
    expand_like,
    get_device,
    rand,
    randn,
    seed_everything,
)
from .widgets import explore

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ae",
    "arm",
    "data",
    "diffusion",
    "distributions",
    "divergences",
    "flow",
    "gan",
    "metrics",
    "mode_collapse",
    "nets",
    "plot",
    "train",
    "utils",
    "vae",
    "vq",
    "widgets",
    "History",
    "train_loop",
    "count_parameters",
    "eval_mode",
    "expand_like",
    "get_device",
    "rand",
    "randn",
    "seed_everything",
    "explore",
]
