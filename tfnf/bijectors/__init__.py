"""tfnf bijectors: exact, invertible building blocks of normalizing flows.

Every class here is a `tfp.bijectors.Bijector`; forward maps latent -> data.
The networks inside them (conditioners, MADEs) are Keras layers in `tfnf.nets`.
"""

from tfnf.bijectors.actnorm import ActNorm, ActNormParameters, data_dependent_initialization, initialize_actnorms
from tfnf.bijectors.additive_coupling import AdditiveCoupling
from tfnf.bijectors.affine_coupling import AffineCoupling
from tfnf.bijectors.class_conditional_gaussian import ClassConditionalGaussian
from tfnf.bijectors.conditional_kwargs import conditional_kwargs, context_size_of
from tfnf.bijectors.continuous_flow import ContinuousFlow
from tfnf.bijectors.coupling import Coupling, coupling_network
from tfnf.bijectors.diagonal_scale import DiagonalScale
from tfnf.bijectors.factor_out import FactorOut
from tfnf.bijectors.image_spline_coupling import ImageSplineCoupling
from tfnf.bijectors.flow_bijector import FlowBijector
from tfnf.bijectors.invertible_1x1_conv import Invertible1x1Conv
from tfnf.bijectors.jet_coupling import JetCoupling
from tfnf.bijectors.keras_layers import collect_keras_layers
from tfnf.bijectors.logit import Logit
from tfnf.bijectors.lu_linear import LULinear
from tfnf.bijectors.memory_saving_chain import MemorySavingChain
from tfnf.bijectors.masked_autoregressive import MaskedAutoregressive
from tfnf.bijectors.patch_autoregressive import PatchAutoregressive
from tfnf.bijectors.spline_coupling import SplineCoupling
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.bijectors.squeeze import Squeeze
from tfnf.bijectors.transformers import AdditiveTransformer, AffineTransformer

__all__ = [
    "ActNorm",
    "ActNormParameters",
    "AdditiveCoupling",
    "AdditiveTransformer",
    "AffineCoupling",
    "AffineTransformer",
    "ClassConditionalGaussian",
    "ContinuousFlow",
    "Coupling",
    "DiagonalScale",
    "FactorOut",
    "FlowBijector",
    "ImageSplineCoupling",
    "Invertible1x1Conv",
    "JetCoupling",
    "LULinear",
    "Logit",
    "MaskedAutoregressive",
    "MemorySavingChain",
    "PatchAutoregressive",
    "RationalQuadraticSplineTransformer",
    "SplineCoupling",
    "Squeeze",
    "collect_keras_layers",
    "conditional_kwargs",
    "context_size_of",
    "coupling_network",
    "data_dependent_initialization",
    "initialize_actnorms",
]
