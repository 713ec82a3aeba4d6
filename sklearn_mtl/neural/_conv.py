"""A small convolutional network for images given as flat rows (pure torch)."""

import math

from torch import nn

__all__ = ["ConvNet"]


class ConvNet(nn.Module):
    """The usual 4-block few-shot CNN, on images given as flat rows.

    Each block is a 3x3 convolution (``n_filters`` channels, padding 1),
    batch normalization, ReLU and a 2x2 max-pool (Vinyals et al. 2016; the
    network of MAML and prototypical networks). Rows of shape
    (n_samples, prod(image_shape)) are reshaped to (n_samples, channels,
    height, width) first, so the module takes the same flat feature matrix as
    every estimator. The trunk's output is flattened: ``n_filters`` features
    per remaining pixel (64 on 28 x 28 images after 4 blocks).

    With ``n_outputs`` set, a linear ``head`` maps these features to
    ``n_outputs`` scores; its parameters are named ``head.*``, so ANIL adapts
    it alone. Without it the module is an embedding (prototypical networks).

    The signature ``ConvNet(n_features, n_outputs, image_shape=...)`` is the
    ``network`` factory protocol of the meta-learners: pass
    ``functools.partial(ConvNet, image_shape=(28, 28))``.

    Parameters
    ----------
    n_features : int or None, default=None
        Length of an input row; checked against ``image_shape`` when given.
    n_outputs : int or None, default=None
        Outputs of the linear head; None: no head (an embedding).
    image_shape : tuple of int, default=(28, 28)
        ``(height, width)`` or ``(channels, height, width)`` of an image; rows
        are read in C order (row-major, channels first).
    n_filters : int, default=64
        Channels of every convolution.
    n_blocks : int, default=4
        Number of conv-BN-ReLU-pool blocks (each halves height and width,
        rounding down); the image must keep at least 1 x 1 pixel.

    Attributes
    ----------
    trunk : nn.Sequential
        The blocks and the final flatten.
    head : nn.Linear
        Only when ``n_outputs`` is set.
    n_embedding : int
        Number of features the trunk outputs.

    Notes
    -----
    Batch normalization uses the statistics of the batch in training mode
    and its running statistics in evaluation mode; the meta-learners say
    which they use where (MAML's inner loop: the support batch's).

    Examples
    --------
    >>> import torch
    >>> from sklearn_mtl.neural import ConvNet
    >>> net = ConvNet(784, 5, image_shape=(28, 28))
    >>> net(torch.zeros(3, 784)).shape
    torch.Size([3, 5])
    >>> ConvNet(image_shape=(28, 28)).n_embedding
    64
    """

    def __init__(
        self,
        n_features=None,
        n_outputs=None,
        *,
        image_shape=(28, 28),
        n_filters=64,
        n_blocks=4,
    ):
        super().__init__()
        shape = tuple(int(s) for s in image_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(
                "image_shape must be (height, width) or (channels, height, width) "
                f"of positive integers, got {tuple(image_shape)!r}."
            )
        if n_features is not None and n_features != math.prod(shape):
            raise ValueError(
                f"ConvNet got rows of {n_features} features, but image_shape "
                f"{tuple(image_shape)} holds {math.prod(shape)} pixels."
            )
        side = min(shape[1:]) // 2**n_blocks
        if n_blocks < 1 or side < 1:
            raise ValueError(
                f"n_blocks={n_blocks} halves a {shape[1]} x {shape[2]} image "
                "below one pixel; use fewer blocks or larger images."
            )
        self.image_shape = shape
        layers, channels = [], shape[0]
        for _ in range(n_blocks):
            layers += [
                nn.Conv2d(channels, n_filters, 3, padding=1),
                nn.BatchNorm2d(n_filters),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            channels = n_filters
        layers.append(nn.Flatten())
        self.trunk = nn.Sequential(*layers)
        h, w = shape[1], shape[2]
        for _ in range(n_blocks):
            h, w = h // 2, w // 2
        self.n_embedding = n_filters * h * w
        if n_outputs is not None:
            self.head = nn.Linear(self.n_embedding, n_outputs)

    def forward(self, X):
        features = self.trunk(X.reshape(-1, *self.image_shape))
        if hasattr(self, "head"):
            return self.head(features)
        return features

    def embed(self, X):
        """The trunk's features of flat rows.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, height * width)
            Images as flat rows (row-major, as ``image_shape`` says).

        Returns
        -------
        features : torch.Tensor of shape (n_samples, n_embedding)
        """
        return self.trunk(X.reshape(-1, *self.image_shape))
