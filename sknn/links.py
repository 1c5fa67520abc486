"""Output links: from raw network outputs to predictions, owned by the losses.

A loss names its link in the class attribute ``link``, an instance of
:class:`Link`. The link maps raw outputs to predictions (:meth:`Link.inverse`),
gives its name to the estimator's ``out_activation_`` and, for classifiers,
says how many outputs a target needs, how class indicators become targets and
how predictions become probabilities and labels. A loss with a new link brings
a :class:`Link` subclass; the estimators, ``sknn.save``/``sknn.load`` and
``sknn.onnx`` ask the link and know no link by name.

Shape contract: ``raw`` and the predictions have shape
``(n_samples, n_outputs)`` and the same floating dtype.

Examples
--------
>>> import numpy as np
>>> from sknn.links import LogitLink, MultinomialLogit
>>> raw = np.array([[0.0, np.log(3.0)]])
>>> MultinomialLogit().inverse(raw)
array([[0.25, 0.75]])
>>> LogitLink().inverse(np.zeros((1, 1)))
array([[0.5]])
>>> LogitLink().proba(np.array([[0.25]]), "binary")
array([[0.75, 0.25]])
"""

import numpy as np
from scipy import special

from ._base import Component

__all__ = ["Link", "IdentityLink", "LogitLink", "MultinomialLogit", "LogLink"]


class Link(Component):
    """Base class of output links.

    Subclasses set :attr:`name` and implement :meth:`inverse`; for ONNX export,
    :meth:`onnx_inverse`. The classifier methods have defaults for links
    whose every output is the probability of one class, as for a
    multilabel target: one output for a binary target, one per class
    otherwise, probabilities clipped to ``[eps, 1 - eps]``.

    A link compares equal to its name, so ``loss.link == "softmax"`` reads as
    it did when links were strings.

    Attributes
    ----------
    name : str
        What the estimator's ``out_activation_`` shows, and what a saved model
        records; unique among the links a program uses.
    """

    name = None

    def __eq__(self, other):
        if isinstance(other, str):
            return other == self.name
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def inverse(self, raw, out=None):
        """Map raw outputs to predictions, written into ``out`` when given."""
        raise NotImplementedError

    def onnx_inverse(self, graph, raw):
        """Add :meth:`inverse` to an ONNX graph and return its output's name.

        Used by ``sknn.onnx``; optional, and a model whose link lacks it cannot
        be exported. ``graph`` is a :class:`sknn.onnx.OnnxGraph`, as for
        :meth:`sknn.activations.Activation.onnx_forward`.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ classifiers
    def n_outputs(self, n_classes, y_type):
        """The number of network outputs for a classification target.

        Parameters
        ----------
        n_classes : int
            The number of classes (of labels, for a multilabel target).
        y_type : {"binary", "multiclass", "multilabel-indicator"}
            The target type, as :func:`sklearn.utils.multiclass.type_of_target`
            gives it.

        Raises
        ------
        ValueError
            If the link cannot fit this type of target; the message completes
            ``"loss=... (<name> link) "``.
        """
        return 1 if y_type == "binary" else n_classes

    def encode(self, Y):
        """Network targets from the label indicator matrix ``Y``.

        ``Y`` is what :class:`sklearn.preprocessing.LabelBinarizer` gives: one
        column for a binary target, one per class otherwise.
        """
        return Y

    def decode(self, p):
        """Predictions in :meth:`encode`'s layout back in ``Y``'s layout.

        Labels are ``argmax(decode(p))`` for a multiclass target and
        ``decode(p) > 0.5`` otherwise.
        """
        return p

    def proba(self, p, y_type):
        """Class probabilities ``(n_samples, n_classes)`` from predictions ``p``.

        ``p`` is ``inverse(raw)``, a fresh array that may be overwritten. The
        probabilities are strictly inside (0, 1), so that their logarithm is
        finite.
        """
        eps = np.finfo(p.dtype).eps
        np.clip(p, eps, 1 - eps, out=p)
        if y_type == "binary":
            return np.hstack([1 - p, p])
        return p

    def onnx_proba(self, graph, p, y_type):
        """Add :meth:`proba` to an ONNX graph and return its output's name."""
        op, const = graph.op, graph.const
        finfo = np.finfo(graph.dtype)
        clipped = op("Min", op("Max", p, const(finfo.eps)), const(1 - finfo.eps))
        if y_type == "binary":
            return op("Concat", op("Sub", const(1.0), clipped), clipped, axis=1)
        return clipped


class IdentityLink(Link):
    """The identity: predictions are the raw outputs."""

    name = "identity"

    def inverse(self, raw, out=None):
        if out is None:
            return raw
        np.copyto(out, raw)
        return out

    def onnx_inverse(self, graph, raw):
        return raw


class LogitLink(Link):
    """The logit link: the logistic sigmoid on each output.

    Each output is the probability of one class, so the link fits binary
    (one output) and multilabel targets, not multiclass ones.
    """

    name = "logistic"

    def inverse(self, raw, out=None):
        return special.expit(raw, out=out)

    def onnx_inverse(self, graph, raw):
        return graph.op("Sigmoid", raw)

    def n_outputs(self, n_classes, y_type):
        if y_type == "multiclass":
            raise ValueError(
                "needs binary or multilabel targets; use 'log_loss' for multiclass."
            )
        return super().n_outputs(n_classes, y_type)


def _softmax(raw, out=None):
    out = np.empty_like(raw) if out is None else out
    np.subtract(raw, raw.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


class MultinomialLogit(Link):
    """The multinomial logit link: the softmax over the outputs of a row.

    The outputs of a row are the probabilities of the classes, one output per
    class (two for a binary target); multilabel targets do not fit.
    """

    name = "softmax"

    def inverse(self, raw, out=None):
        return _softmax(raw, out)

    def onnx_inverse(self, graph, raw):
        return graph.op("Softmax", raw, axis=1)

    def n_outputs(self, n_classes, y_type):
        if y_type == "multilabel-indicator":
            raise ValueError("cannot fit multilabel targets; use 'binary_log_loss'.")
        return max(n_classes, 2)

    def encode(self, Y):
        return np.hstack([1 - Y, Y]) if Y.shape[1] == 1 else Y

    def decode(self, p):
        return p[:, 1:] if p.shape[1] == 2 else p

    def proba(self, p, y_type):
        # No exact zeros, so that predict_log_proba stays finite.
        return np.maximum(p, np.finfo(p.dtype).tiny, out=p)

    def onnx_proba(self, graph, p, y_type):
        return graph.op("Max", p, graph.const(np.finfo(graph.dtype).tiny))


def _exp_limit(dtype):
    # The largest raw output whose exp is finite.
    dt = np.dtype(dtype).type
    return np.nextafter(dt(np.log(np.finfo(dt).max)), dt(0))


class LogLink(Link):
    """The log link: predictions are ``exp(raw)``, saturating at the largest float."""

    name = "exp"

    def inverse(self, raw, out=None):
        return np.exp(np.minimum(raw, _exp_limit(raw.dtype), out=out), out=out)

    def onnx_inverse(self, graph, raw):
        limit = graph.const(_exp_limit(graph.dtype))
        return graph.op("Exp", graph.op("Min", raw, limit))


_BUILTIN = {
    link.name: link
    for link in (IdentityLink(), LogitLink(), MultinomialLogit(), LogLink())
}


def _as_link(link, owner):
    """``link`` (a built-in link's name, a Link class or instance) as an instance."""
    if isinstance(link, type) and issubclass(link, Link):
        link = link()
    elif isinstance(link, str) and link in _BUILTIN:
        link = _BUILTIN[link]
    if not isinstance(link, Link):
        raise TypeError(
            f"{owner}.link must be a sknn.links.Link instance or the name of a "
            f"built-in link ({', '.join(map(repr, _BUILTIN))}); got {link!r}."
        )
    if not (isinstance(link.name, str) and link.name):
        raise TypeError(
            f"{owner}.link {link!r} must have a name: set the class attribute "
            f"name of {type(link).__qualname__} to a non-empty str."
        )
    return link
