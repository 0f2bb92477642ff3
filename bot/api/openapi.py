"""The OpenAPI 3.1 description of ``/api/v1`` (kept by hand next to the handlers; a test checks
that its paths and the registered routes agree)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from storage.models import ContactOutcome
from storage.person_status import STATUS_LABELS, STATUS_ORDER

router = web.RouteTableDef()

_ERROR = {"$ref": "#/components/schemas/Error"}
_AREA_PARAMS = [
    {"name": n, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
    for n in ("district_id", "street_id", "community_id")
]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_PERSON_STATUS = {
    "type": "string",
    "enum": [str(s) for s in STATUS_ORDER],
    "description": "人员状态："
    + "、".join(f"{s}={STATUS_LABELS[s]}" for s in STATUS_ORDER)
    + "（not_collected 时见 not_collected_reason）",
}
_STATUS_PROPERTIES = {
    "status": _PERSON_STATUS,
    "status_label": {"type": "string", "description": "状态的中文，如 未采集（人户分离）"},
    "not_collected_reason": {
        "type": ["string", "null"],
        "description": "未采集原因代码（separated=人户分离、away=长期外出、unknown=情况不明）",
    },
}
_DEADLINE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "overdue": {"type": "boolean"},
        "days_left": {"type": ["integer", "null"], "description": "已过期时为 null"},
    },
}

_ERRORS = {
    "400": _json(_ERROR, "参数错误"),
    "401": _json(_ERROR, "缺少或无效的访问令牌"),
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "全民参保登记 信息采集 API",
        "version": "1.0.0",
        "description": (
            "供中心系统读取已提交、已退回、已确认的登记记录、名册人员的状态及采集进度。"
            "区级令牌只能读取本区数据。"
            "时间均为带时区的 ISO 8601。"
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/records": {
            "get": {
                "operationId": "listRecords",
                "summary": "列出某一时间之后有变动的记录（分页）",
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "format": "date-time"},
                        "description": "只返回此时间之后变动的记录",
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "上一页返回的 next_cursor",
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "submitted、returned、confirmed，可用逗号分隔多个",
                    },
                    *_AREA_PARAMS,
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["records", "next_cursor"],
                            "properties": {
                                "records": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Record"},
                                },
                                "next_cursor": {"type": ["string", "null"]},
                            },
                        },
                        "按变动时间排序的记录；next_cursor 为 null 表示已是最后一页",
                    ),
                    **_ERRORS,
                },
            }
        },
        "/records/{record_id}": {
            "get": {
                "operationId": "getRecord",
                "summary": "读取一条记录",
                "parameters": [
                    {
                        "name": "record_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Record"}, "记录"),
                    "404": _json(_ERROR, "不存在、尚未提交或不在令牌范围内"),
                    **_ERRORS,
                },
            }
        },
        "/progress": {
            "get": {
                "operationId": "getProgress",
                "summary": "某一区域及其下级区域的采集进度",
                "parameters": [
                    {
                        "name": "level",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "enum": ["city", "district", "street", "community"],
                            "default": "city",
                        },
                    },
                    {
                        "name": "id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer"},
                        "description": "区、街道或社区的编号（level 不是 city 时必填）",
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["area", "children"],
                            "properties": {
                                "area": {"$ref": "#/components/schemas/Progress"},
                                "children": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Progress"},
                                },
                            },
                        },
                        "进度",
                    ),
                    "404": _json(_ERROR, "区域不存在或不在令牌范围内"),
                    **_ERRORS,
                },
            }
        },
        "/persons": {
            "get": {
                "operationId": "listPersons",
                "summary": "名册人员及其状态（按区域、户号排序，分页）",
                "parameters": [
                    *_AREA_PARAMS,
                    {
                        "name": "household_id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "人员状态，可用逗号分隔多个，如 not_contacted,invited",
                    },
                    {
                        "name": "page",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "default": 1},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["persons", "total", "page", "pages"],
                            "properties": {
                                "persons": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Person"},
                                },
                                "total": {"type": "integer"},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                            },
                        },
                        "名册人员",
                    ),
                    **_ERRORS,
                },
            }
        },
        "/persons/{person_id}": {
            "get": {
                "operationId": "getPerson",
                "summary": "一名人员及其联系记录",
                "parameters": [
                    {
                        "name": "person_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": _json(
                        {
                            "allOf": [
                                {"$ref": "#/components/schemas/Person"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "contacts": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Contact"},
                                        }
                                    },
                                },
                            ]
                        },
                        "人员（联系记录按日期从新到旧）",
                    ),
                    "404": _json(_ERROR, "不存在或不在令牌范围内"),
                    **_ERRORS,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "本说明文档",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1 文档"}},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "canbao token create NAME 生成的令牌",
            }
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "Record": {
                "type": "object",
                "required": ["id", "status", "area", "person", "answers", "updated_at"],
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["submitted", "returned", "confirmed"]},
                    "filled_by": {"type": "string", "enum": ["resident", "investigator"]},
                    "form": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "version": {"type": "integer"}},
                    },
                    "revision": {"type": "integer"},
                    "area": {
                        "type": "object",
                        "properties": {
                            "district_id": {"type": "integer"},
                            "district": {"type": "string"},
                            "street": {"type": "string"},
                            "community": {"type": "string"},
                            "household": {"type": "string"},
                        },
                    },
                    "person": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "id_number": {"type": "string"},
                            "on_roster": {"type": "boolean"},
                            **_STATUS_PROPERTIES,
                        },
                    },
                    "investigator": {"type": ["string", "null"]},
                    "flags": {"type": "array", "items": {"type": "string"}},
                    "duplicate_attempts": {"type": "integer"},
                    "submitted_at": {"type": ["string", "null"], "format": "date-time"},
                    "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                    "enrolment": {
                        "type": ["object", "null"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "insurance": {"type": "string"},
                        },
                    },
                    "return_comment": {"type": ["string", "null"]},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "answers": {
                        "type": "object",
                        "description": "表格答案（代码），含 birth_date、sex、age 等推导值",
                    },
                    "labels": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "答案的中文显示文字",
                    },
                },
            },
            "Progress": {
                "type": "object",
                "properties": {
                    "level": {"type": "string"},
                    "id": {"type": ["integer", "null"]},
                    "name": {"type": "string"},
                    "target": {"type": "integer"},
                    "households": {"type": "integer"},
                    "households_visited": {"type": "integer"},
                    "drafts": {"type": "integer"},
                    "submitted": {"type": "integer"},
                    "returned": {"type": "integer"},
                    "confirmed": {"type": "integer"},
                    "collected": {"type": "integer"},
                    "not_collected": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                    },
                    "collection_rate": {"type": "number"},
                    "persons": {
                        "type": "object",
                        "description": "名册人员按状态计数；未联系人数及占比",
                        "properties": {
                            "target": {"type": "integer"},
                            "not_contacted": {"type": "integer"},
                            "not_contacted_share": {"type": "number"},
                            "statuses": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                        },
                    },
                    "deadline": _DEADLINE,
                },
            },
            "Person": {
                "type": "object",
                "required": ["id", "name", "area", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "id_number": {"type": "string"},
                    "mobile": {"type": ["string", "null"]},
                    "on_roster": {"type": "boolean"},
                    "area": {
                        "type": "object",
                        "properties": {
                            "district_id": {"type": "integer"},
                            "district": {"type": "string"},
                            "street": {"type": "string"},
                            "community_id": {"type": "integer"},
                            "community": {"type": "string"},
                            "household_id": {"type": "integer"},
                            "household": {"type": "string"},
                        },
                    },
                    **_STATUS_PROPERTIES,
                    "last_contact": {
                        "type": ["object", "null"],
                        "properties": {
                            "date": {"type": "string", "format": "date"},
                            "outcome": {"type": "string"},
                            "outcome_label": {"type": "string"},
                        },
                    },
                    "record_id": {"type": ["integer", "null"]},
                },
            },
            "Contact": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "outcome": {
                        "type": "string",
                        "enum": [str(o) for o in ContactOutcome],
                    },
                    "outcome_label": {"type": "string"},
                    "by": {"type": "string"},
                    "by_kind": {"type": "string"},
                    "channel": {"type": "string"},
                    "note": {"type": ["string", "null"]},
                },
            },
        },
    },
}


@router.get("/openapi.json", name="api_openapi")
async def openapi(request: web.Request) -> web.Response:
    """The description above (no token needed)."""
    return web.json_response(SPEC)
