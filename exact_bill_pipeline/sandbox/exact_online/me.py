"""The sandbox user who consents to the app, their current/Me record, and the division they reach (system/Divisions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from exact_bill_pipeline.sandbox.exact_online.store import Table
from exact_bill_pipeline.sandbox.seed import FIRM_NAME, exact_supplier_code

USER_NAMESPACE = uuid.UUID("5b0f6f4e-6c77-4a3a-9d55-0e1f3c8a2b71")


@dataclass(frozen=True)
class SandboxUser:
    id: str
    first_name: str
    last_name: str
    email: str
    customer_id: str

    @classmethod
    def for_seed(cls, seed: int) -> SandboxUser:
        return cls(
            id=str(uuid.uuid5(USER_NAMESPACE, f"user:{seed}")),
            first_name="Morgan",
            last_name="Reyes",
            email="controller@harborpine.example",
            customer_id=str(uuid.uuid5(USER_NAMESPACE, f"customer:{seed}")),
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def me_row(self, division: int, now_ms: int) -> dict[str, Any]:
        """current/Me for this user; CurrentDivision is the division the sandbox serves (api-reference §2)."""
        return {
            "UserID": self.id, "CurrentDivision": division, "AccountingDivision": division,
            "DossierDivision": None, "DivisionCustomer": self.customer_id,
            "DivisionCustomerCode": exact_supplier_code(1), "DivisionCustomerName": FIRM_NAME,
            "DivisionCustomerVatNumber": None, "DivisionCustomerSiretNumber": None, "CustomerCode": "1",
            "Email": self.email, "UserName": self.email, "EmployeeID": None, "FirstName": self.first_name,
            "MiddleName": None, "LastName": self.last_name, "FullName": self.full_name, "Initials": "M.",
            "Gender": "U", "Title": None, "Language": "EN", "LanguageCode": "en-US", "Legislation": 1,
            "Nationality": None, "Mobile": None, "Phone": None, "PhoneExtension": None,
            "PackageCode": "SANDBOX-ACC-PRO", "PictureUrl": None,
            # The sandbox keeps UTC; Exact gives the server's local time and its offset in seconds.
            "ServerTime": f"/Date({now_ms})/", "ServerUtcOffset": 0.0,
            "IsClientUser": False, "IsEmployeeSelfServiceUser": False, "IsMyFirmLiteUser": False,
            "IsMyFirmPortalUser": False, "IsOEIMigrationMandatory": False, "IsStarterUser": False,
            "ThumbnailPicture": None, "ThumbnailPictureFormat": None,
        }


def division_view(division: int, currency: str, created_ms: int) -> Table:
    """system/Divisions: the one division the sandbox user reaches, with its base currency."""
    table = Table("Code")
    table.put({
        "Code": division, "Description": FIRM_NAME, "Currency": currency, "Country": "US", "Current": True,
        "Status": 1, "BlockingStatus": 0, "Hid": division, "IsMainDivision": True, "IsDossierDivision": False,
        "IsHRDivision": False, "IsPracticeDivision": False, "Legislation": "US", "City": "Portland",
        "StartDate": created_ms, "Created": created_ms, "Modified": created_ms, "DivisionMoveDate": None,
        "Timestamp": 1,
    })
    return table
