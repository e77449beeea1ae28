"""The patch engines of the local apiserver, one per PATCH content type.

    application/merge-patch+json           merge_patch(target, patch)
    application/json-patch+json            json_patch(target, ops)
    application/strategic-merge-patch+json strategic_merge_patch(target, patch, kind)

and `create_three_way_patch`, the strategic patch that client-side `kubectl apply` computes
and sends. All return new dicts and raise `ApiError` with kube-apiserver's statuses and texts.

Read by: the Python API's apply(), server (the PATCH verb). Reads: api.patch_json,
api.patch_strategic, api.patch_threeway.
"""

from kubelab.api.patch_json import json_patch, merge_patch
from kubelab.api.patch_strategic import strategic_merge_patch
from kubelab.api.patch_threeway import create_three_way_patch

__all__ = ["create_three_way_patch", "json_patch", "merge_patch", "strategic_merge_patch"]
