"""ONVIF Profile S devices and NVRs (live RTSP and JPEG snapshots), with Profile G recordings where offered.

Follows the ONVIF specifications (https://www.onvif.org/profiles/specifications/, sources at
github.com/onvif/specs, WSDLs under https://www.onvif.org/ver10/):

* ONVIF Core Specification: §5.1.1 (the device service is at ``/onvif/device_service``), §5.8.2 "SOAP errors"
  (generic faults, ``env:Sender``/``ter:NotAuthorized`` "Sender not Authorized"), §5.9.1 "Authentication over
  HTTP and HTTPS" (HTTP digest, or WS-UsernameToken on legacy devices), §5.9.4 "User-based access control"
  (PRE_AUTH and READ_MEDIA access classes), §5.9.5 "Username token profile" (nonce and Created are mandatory),
  §8.1.2 "Capability exchange" (GetServices, GetCapabilities), §8.3.1 GetDeviceInformation, §8.3.6
  GetSystemDateAndTime.
* OASIS WS-Security UsernameToken Profile 1.0 §3.1: PasswordDigest = Base64(SHA-1(nonce + created + password)).
* ONVIF Media Service Specification (ver10/media/wsdl): §5.2.2 GetProfiles, §5.15.1 GetStreamUri (StreamSetup
  ``RTP-Unicast`` over ``RTSP``), §5.16.1 GetSnapshotUri (a JPEG by HTTP GET).
* ONVIF Recording Search Service Specification (ver10/search/wsdl): §5.7 FindRecordings, §5.8
  GetRecordingSearchResults, §5.19 EndSearch; ONVIF Replay Control Service Specification (ver10/replay/wsdl):
  §5.1 GetReplayUri. Profile S and Profile G specifications name these as the devices' mandatory features.

The broker carries no SOAP stack: :mod:`.soapxml` writes the few request shapes and reads answers under
defusedxml-like guards; :mod:`.uris` keeps every request and credential on the device's own hosts (no SSRF).
"""

from __future__ import annotations

from adapters.onvif.adapter import OnvifAdapter
from adapters.onvif.settings import OnvifSettings

__all__ = ["OnvifAdapter", "OnvifSettings"]
