"""Ouro's Python client: the whole ML lifecycle from a notebook.

    from ouro import Ouro
    ouro = Ouro()                      # OURO_URL, OURO_TOKEN (and OURO_PROJECT) from the environment
    job = ouro.datasets.upload("penguins.json", project="demo")
    version = ouro.datasets.version_of(job)   # waits, with a progress bar
    version.get_profile()                     # histograms, rendered inline in Jupyter
"""

from . import _generated as types
from ._live import LiveStream
from .charts import VegaLite, drift_chart, metrics_chart, profile_chart
from .client import Ouro
from .errors import (
    BadUserInputError,
    ConflictError,
    ForbiddenError,
    GraphQLValidationError,
    InternalServerError,
    NotFoundError,
    OuroApiError,
    OuroError,
    OuroJobError,
    OuroNetworkError,
    PayloadTooLargeError,
    RateLimitedError,
    UnauthenticatedError,
    UnavailableError,
)
from .resources import DataPreview, Dataset, DatasetVersion, Deployment, FeatureSet, Job, Model, ModelVersion, Monitor, Pipeline, PipelineRun, Profile, Recipe, Run
from .runs import RunHandle, RunStats

__version__ = "0.1.0"

__all__ = [
    "BadUserInputError",
    "ConflictError",
    "DataPreview",
    "Dataset",
    "DatasetVersion",
    "Deployment",
    "FeatureSet",
    "ForbiddenError",
    "GraphQLValidationError",
    "InternalServerError",
    "Job",
    "LiveStream",
    "Model",
    "ModelVersion",
    "Monitor",
    "NotFoundError",
    "Ouro",
    "OuroApiError",
    "OuroError",
    "OuroJobError",
    "OuroNetworkError",
    "PayloadTooLargeError",
    "Pipeline",
    "PipelineRun",
    "Profile",
    "RateLimitedError",
    "Recipe",
    "Run",
    "RunHandle",
    "RunStats",
    "UnauthenticatedError",
    "UnavailableError",
    "VegaLite",
    "drift_chart",
    "metrics_chart",
    "profile_chart",
    "types",
]
