"""tfnf networks: the Keras layers that emit the parameters of a flow's bijectors.

Couplings and autoregressive layers (`tfnf.bijectors`) take one of these
ready-built; `conditioners` names them (`"mlp"`, `"conv"`, `"made"`, ...) and
`conditioners.build_network` is where a default is chosen. Every network
zero-initialises its output layer, so a new bijector starts as the identity.
"""

from tfnf.nets import conditioners
from tfnf.nets.causal_transformer import CausalTransformer
from tfnf.nets.class_table import ClassTable
from tfnf.nets.conditioner import Conditioner, ImageConditioner, VectorConditioner
from tfnf.nets.conditioners import ConditionerFactory, build_network
from tfnf.nets.conv_conditioner import ConvConditioner
from tfnf.nets.conv_vector_field import ConvVectorField
from tfnf.nets.dense_conditioner import DenseConditioner
from tfnf.nets.gated_conv_conditioner import GatedConvConditioner
from tfnf.nets.hashed_dropout import HashedDropout
from tfnf.nets.image_context_conditioner import ImageContextConditioner, image_context_conditioner
from tfnf.nets.made import MADE
from tfnf.nets.packed_conv2d import PackedConv2D
from tfnf.nets.precision import network_dtype_policy
from tfnf.nets.residual_dense_conditioner import ResidualDenseConditioner
from tfnf.nets.residual_made import ResidualMADE
from tfnf.nets.token_transformer import TokenTransformer
from tfnf.nets.training_phase import TrainingPhase
from tfnf.nets.transformer_block import TransformerBlock
from tfnf.nets.vector_field import VectorField
from tfnf.nets.vit_conditioner import ViTConditioner

__all__ = [
    "CausalTransformer",
    "ClassTable",
    "Conditioner",
    "ConditionerFactory",
    "ConvConditioner",
    "ConvVectorField",
    "DenseConditioner",
    "GatedConvConditioner",
    "HashedDropout",
    "ImageConditioner",
    "ImageContextConditioner",
    "MADE",
    "PackedConv2D",
    "ResidualDenseConditioner",
    "ResidualMADE",
    "TokenTransformer",
    "TrainingPhase",
    "TransformerBlock",
    "VectorConditioner",
    "VectorField",
    "ViTConditioner",
    "build_network",
    "conditioners",
    "image_context_conditioner",
    "network_dtype_policy",
]
