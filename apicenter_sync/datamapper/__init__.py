"""The datamapper: user-editable field mappings from a source record to a canonical model.

    mapper = compile_mapping(load_default_mapping("products"))
    article = mapper.to_model(accountview_row, tables)

See docs/datamapper.md for the line format and the transforms.
"""

from .defaults import DEFAULT_FLOWS, load_default_mapping
from .errors import FieldError, MappingDefinitionError, MappingError
from .mapping import FLOW_MODELS, FieldMapping, FlowMapping, Mapper, TransformStep, compile_mapping
from .transforms import TRANSFORMS, TransformError

__all__ = [
    "DEFAULT_FLOWS",
    "FLOW_MODELS",
    "TRANSFORMS",
    "FieldError",
    "FieldMapping",
    "FlowMapping",
    "Mapper",
    "MappingDefinitionError",
    "MappingError",
    "TransformError",
    "TransformStep",
    "compile_mapping",
    "load_default_mapping",
]
