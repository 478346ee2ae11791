"""/v1/devices/{installation_id}: an app installation registers itself with an idempotent PUT,
and is listed, read and removed. Registering and removing change where pushes go, so they
refuse revoked tokens and disabled users (`SensitiveUser`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CurrentUser, SensitiveUser, Services, unit_of_work
from api.http import json_response, preconditions, resource_response
from api.resources.devices.schemas import DeviceList, DeviceOut, DevicePut, InstallationIdPath
from domain.devices import use_cases

router = APIRouter(prefix="/devices", tags=["devices"])


@router.put(
    "/{installation_id}",
    response_model=DeviceOut,
    responses={201: {"model": DeviceOut, "description": "Registered for the first time"}},
)
async def put_device(
    request: Request,
    installation_id: InstallationIdPath,
    body: DevicePut,
    user: SensitiveUser,
    svc: Services,
) -> Response:
    """Register or update this installation (idempotent: the same body twice changes nothing)."""
    async with unit_of_work(request) as uow:
        device, created = await use_cases.register_device(
            uow,
            user.uid,
            installation_id,
            body.to_registration(),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(
        request, DeviceOut.of(device), device.version, status=201 if created else 200
    )


@router.get("", response_model=DeviceList)
async def list_devices(request: Request, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        devices = await uow.devices.list(user.uid)
    return json_response(DeviceList(items=[DeviceOut.of(d) for d in devices]))


@router.get("/{installation_id}", response_model=DeviceOut)
async def get_device(
    request: Request, installation_id: InstallationIdPath, user: CurrentUser
) -> Response:
    async with unit_of_work(request) as uow:
        device = await use_cases.get_device(uow, user.uid, installation_id)
    return resource_response(request, DeviceOut.of(device), device.version)


@router.delete("/{installation_id}", status_code=204, response_class=Response)
async def delete_device(
    request: Request, installation_id: InstallationIdPath, user: SensitiveUser, svc: Services
) -> Response:
    async with unit_of_work(request) as uow:
        await use_cases.remove_device(
            uow,
            user.uid,
            installation_id,
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return Response(status_code=204)
