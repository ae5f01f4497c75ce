"""The seed's design, as its Phase 2 code writes it, for `make bench` to compare against.

The Lambda calls PF360 directly and keeps `request_id` in the session row
(/work/shared/seeds plan, "Phase 2: Lambda Function Updates": SessionManager,
PF360APIClient, get_available_dates / get_time_slots / confirm_appointment). Only the
Bedrock event plumbing around the three functions is ours. It runs as its own function on
the local stack, in the same execution environments as ours. Not production code: it has
none of our guarantees (no tenancy check, no exactly-once, no recovery), which is the point
of the comparison: what do they cost?
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from typing import Any

import boto3
import pytz
import requests

logger = logging.getLogger()


class PF360APIClient:
    def __init__(self, session_data: dict[str, Any]) -> None:
        self.base_url = os.getenv("CUSTOMER_SCHEDULER_BASE_API_URL")
        self.client_id = session_data["client_id"]
        self.auth_token = session_data["auth_token"]
        self.timeout = int(float(os.getenv("API_TIMEOUT", "20")))

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": self.auth_token,
            "client_id": self.client_id,
            "Content-Type": "application/json",
            "charset": "utf-8",
        }

    def get(self, endpoint: str) -> dict[str, Any]:
        url = f"{self.base_url}{endpoint}"
        try:
            response = requests.get(url, headers=self._headers(), timeout=self.timeout)
            response.raise_for_status()
            return {"success": True, "data": response.json()}
        except Exception as e:
            logger.error(f"GET error: {e}")
            return {"success": False, "error": str(e)}

    def post(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{endpoint}"
        try:
            response = requests.post(url, headers=self._headers(), json=data, timeout=self.timeout)
            response.raise_for_status()
            return {"success": True, "data": response.json()}
        except Exception as e:
            logger.error(f"POST error: {e}")
            return {"success": False, "error": str(e)}


class SessionManager:
    def __init__(self) -> None:
        self.dynamodb = boto3.resource("dynamodb")
        self.table = self.dynamodb.Table(os.getenv("DYNAMODB_SESSION_TABLE"))

    def get_session(self, session_id: str) -> Any:
        response = self.table.get_item(Key={"session_id": session_id})
        return response.get("Item")

    def update_session(self, session_id: str, updates: dict[str, Any]) -> None:
        updates["ttl"] = int(time.time()) + 1800
        self.table.put_item(Item={"session_id": session_id, **updates})

    def set_request_id(self, session_id: str, request_id: str) -> None:
        self.table.update_item(
            Key={"session_id": session_id},
            UpdateExpression="SET request_id = :rid, #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":rid": request_id, ":ttl": int(time.time()) + 1800},
        )

    def get_request_id(self, session_id: str) -> Any:
        session = self.get_session(session_id)
        return session.get("request_id") if session else None


def list_projects(session_id: str, customer_id: str) -> dict[str, Any]:
    session_mgr = SessionManager()
    session = session_mgr.get_session(session_id)
    if not session:
        return {"error": "Invalid session"}
    api_client = PF360APIClient(session)
    result = api_client.get(f"/dashboard/get/{session['client_id']}/{customer_id}")
    if not result["success"]:
        return {"error": result["error"]}
    projects = extract_projects(result["data"])
    for project in projects:
        project["project_url"] = build_project_url(
            session["client_name"], session["environment"], project["project_id"]
        )
    return {"projects": projects}


def extract_projects(raw_data: dict[str, Any]) -> list[dict[str, Any]]:
    projects = []
    for i, item in enumerate(raw_data.get("data", [])):
        projects.append(
            {
                "project_number": i + 1,
                "project_id": item.get("project_project_id"),
                "order_number": item.get("project_project_number"),
                "project_type": item.get("project_type_project_type"),
                "category": item.get("project_category_category"),
                "status": item.get("status_info_status"),
            }
        )
    return projects


def build_project_url(client_name: str, env: str, project_id: str) -> str:
    env_map = {"dev": "dev", "qa": "qa", "staging": "staging", "prod": "apps"}
    domain = env_map.get(env, "dev")
    return f"https://{client_name}.cx-portal.{domain}.projectsforce.com/details/{project_id}"


def get_available_dates(session_id: str, customer_id: str, project_id: str) -> dict[str, Any]:
    session_mgr = SessionManager()
    session = session_mgr.get_session(session_id)
    api_client = PF360APIClient(session)
    today = datetime.now().strftime("%Y-%m-%d")
    endpoint = (
        f"/scheduler/client/{session['client_id']}/project/{project_id}"
        f"/date/{today}/selected/{today}/get-rescheduler-slots"
    )
    result = api_client.get(endpoint)
    if not result["success"]:
        return {"error": result["error"]}
    data = result["data"]["data"]
    dates = data["dates"]
    request_id = data["request_id"]
    session_mgr.set_request_id(session_id, request_id)
    return {"available_dates": dates, "request_id": request_id}


def get_time_slots(session_id: str, customer_id: str, project_id: str, date: str) -> dict[str, Any]:
    session_mgr = SessionManager()
    session = session_mgr.get_session(session_id)
    request_id = session_mgr.get_request_id(session_id)
    if not request_id:
        return {"error": "No active scheduling session. Please get available dates first."}
    api_client = PF360APIClient(session)
    endpoint = (
        f"/scheduler/client/{session['client_id']}/project/{project_id}"
        f"/date/{date}/selected/{date}/get-rescheduler-slots?request_id={request_id}"
    )
    result = api_client.get(endpoint)
    if not result["success"]:
        return {"error": result["error"]}
    slots = result["data"]["data"]["slots"]
    return {"time_slots": slots}


def confirm_appointment(
    session_id: str, customer_id: str, project_id: str, date: str, time: str
) -> dict[str, Any]:
    session_mgr = SessionManager()
    session = session_mgr.get_session(session_id)
    request_id = session_mgr.get_request_id(session_id)
    if not request_id:
        return {"error": "No active scheduling session"}
    confirm_flag = int(os.getenv("CONFIRM_SCHEDULE_FLAG", "0"))
    if confirm_flag == 0:
        return {"message": "TEST MODE: Appointment would be confirmed", "test_mode": True}
    api_client = PF360APIClient(session)
    created_at = datetime.now(pytz.timezone("Asia/Kolkata")).strftime("%m-%d-%Y %H:%M:%S")
    payload = {
        "created_at": created_at,
        "date": date,
        "time": time,
        "request_id": request_id,
        "is_chatbot": "true",
    }
    endpoint = f"/scheduler/client/{session['client_id']}/project/{project_id}/schedule"
    result = api_client.post(endpoint, payload)
    if not result["success"]:
        return {"error": result["error"]}
    session_mgr.update_session(session_id, {"request_id": None})
    return {
        "message": result["data"].get("message", "Appointment confirmed"),
        "date": date,
        "time": time,
    }


ACTIONS = {
    "/list_projects": list_projects,
    "/get_available_dates": get_available_dates,
    "/get_time_slots": get_time_slots,
    "/confirm_appointment": confirm_appointment,
}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Bedrock's OpenAPI action-group event in, its response format out."""
    parameters = {p["name"]: p["value"] for p in event.get("parameters", [])}
    parameters.setdefault("session_id", event.get("sessionId", ""))
    body = ACTIONS[event["apiPath"]](**parameters)
    return {
        "messageVersion": "1.0",
        "response": {
            "actionGroup": event.get("actionGroup"),
            "apiPath": event["apiPath"],
            "httpMethod": "POST",
            "httpStatusCode": 400 if "error" in body else 200,
            "responseBody": {"application/json": {"body": json.dumps(body)}},
        },
    }
