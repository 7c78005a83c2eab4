"""Placeholder router, replaced by the area module."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
