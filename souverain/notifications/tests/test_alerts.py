"""Sovereignty alerts: each fact told once, by e-mail (real SMTP on loopback) and signed webhook."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.utils import timezone

from souverain.audit.models import AuditRecord
from souverain.estate.models import Certification, Cloud, Region
from souverain.estate.services import apply_document
from souverain.notifications import alerts, services
from souverain.notifications.models import Channel, ExposureState, Notification, Subscription

pytestmark = pytest.mark.django_db

CERT_END = dt.date(2027, 3, 31)


def _estate(dedicated_to=()):
    return {
        "entities": [{"id": "op", "name": "Opérateur Test", "country": "FR"}],
        "datacenters": [
            {"id": "dc-paris", "name": "Paris", "operator": "op", "country": "FR"},
            {"id": "dc-frankfurt", "name": "Frankfurt", "operator": "op", "country": "DE"},
        ],
        "clouds": [{
            "id": "nuage", "name": "Nuage", "kind": "openstack", "operator": "op",
            "dedicated_to": list(dedicated_to),
            "certifications": [{"scheme": "secnumcloud", "version": "3.2", "valid_from": "2024-01-01",
                                "valid_until": CERT_END.isoformat()}],
            "regions": [
                {"id": "paris", "name": "Paris", "datacenters": ["dc-paris"]},
                {"id": "frankfurt", "name": "Frankfurt", "datacenters": ["dc-frankfurt"]},
            ],
        }],
    }


@pytest.fixture
def subscribers(smtp_server, webhook_receiver):
    """The operator's cyber-defence team: one mailbox and one webhook, for alerts only."""
    Subscription.objects.create(name="SOC mail", channel=Channel.EMAIL, email="soc@operator.example",
                                events=["alert.*"], language="fr")
    hook = Subscription(name="SOC SIEM", channel=Channel.WEBHOOK, url=webhook_receiver.url, events=["alert.*"],
                        language="en")
    hook.secret = webhook_receiver.secret
    hook.save()
    return smtp_server, webhook_receiver


def test_a_certificate_crossing_a_threshold_sends_one_mail_and_one_signed_webhook(subscribers, run_jobs):
    mailbox, receiver = subscribers
    apply_document(_estate())
    cert = Certification.objects.get()

    assert alerts.check_certificates(CERT_END - dt.timedelta(days=91)) == []
    told = alerts.check_certificates(CERT_END - dt.timedelta(days=90))
    assert [n.event for n in told] == ["alert.certificate_expiring"]
    # The same threshold on the next days, or the pass run twice: nothing more.
    assert alerts.check_certificates(CERT_END - dt.timedelta(days=90)) == []
    assert alerts.check_certificates(CERT_END - dt.timedelta(days=45)) == []
    run_jobs(services.JOB_KIND)

    assert len(mailbox.messages) == 1
    rcpt, message = mailbox.messages[0]
    assert rcpt == ["soc@operator.example"]
    assert message["Subject"] == "[Souverain] Le certificat secnumcloud 3.2 de le cloud Nuage expire dans 90 jours " \
                                 "(2027-03-31)"
    assert f"/clouds/{cert.cloud.slug}/" in message.get_content()
    [document] = receiver.verified()
    assert len(receiver.requests) == 1
    assert document["event"] == "alert.certificate_expiring"
    assert document["payload"]["certificate"] == cert.pk and document["payload"]["threshold"] == 90
    # The alert is an audit record.
    assert AuditRecord.objects.filter(action="notification.create", object_id=str(told[0].pk)).exists()

    # The next thresholds, each once; expired once.
    for days, threshold in ((30, 30), (29, None), (7, 7), (1, None), (-1, 0), (-40, None)):
        told = alerts.check_certificates(CERT_END - dt.timedelta(days=days))
        assert [n.payload["threshold"] for n in told] == ([threshold] if threshold is not None else []), days
    assert Notification.objects.filter(event="alert.certificate_expired").count() == 1
    run_jobs(services.JOB_KIND)
    assert len(mailbox.messages) == 4 and len(receiver.verified()) == 4


def test_a_renewed_certificate_is_told_again_when_its_new_end_comes():
    apply_document(_estate())
    cert = Certification.objects.get()
    assert len(alerts.check_certificates(CERT_END - dt.timedelta(days=5))) == 1
    cert.valid_until = CERT_END + dt.timedelta(days=365)
    cert.save()
    assert alerts.check_certificates(CERT_END - dt.timedelta(days=4)) == []
    assert len(alerts.check_certificates(CERT_END + dt.timedelta(days=360))) == 1


def test_a_private_clouds_tenant_gets_its_own_copy_and_nobody_else(tenants, smtp_server, run_jobs):
    Subscription.objects.create(name="SOC", channel=Channel.EMAIL, email="soc@operator.example")
    Subscription.objects.create(name="home", channel=Channel.EMAIL, email="rssi@ministere.example",
                                tenant=tenants["home"])
    Subscription.objects.create(name="foreign", channel=Channel.EMAIL, email="it@other-corp.example",
                                tenant=tenants["foreign"])
    apply_document(_estate(dedicated_to=["ministere"]))
    told = alerts.check_certificates(CERT_END)
    assert sorted((n.tenant.slug if n.tenant else "", n.tenant_copy) for n in told) == [
        ("", False), ("ministere", True)]
    run_jobs(services.JOB_KIND)
    assert sorted(rcpt[0] for rcpt, _ in smtp_server.messages) == ["rssi@ministere.example", "soc@operator.example"]


def _extra_law(tmp_path, country: str) -> str:
    (tmp_path / "laws.yaml").write_text(yaml.safe_dump({
        "version": "2026.12.01-1", "checked": "2026-12-01",
        "sources": {"gazette": {"title": "Test gazette", "url": "https://example.org/act"}},
        "laws": [{
            "id": "xx-data-act", "name": "Data Access Act", "country": country, "citation": "Act 1",
            "enacted": "2020-01-01", "summary": "test",
            "channels": {"data_location": {"strength": "compelled", "rationale": "test"}},
            "source": {"ref": "gazette"}, "checked": "2026-12-01",
        }],
    }))
    return str(tmp_path)


def test_a_kb_release_making_a_new_law_reach_a_region_sends_one_mail_and_one_signed_webhook(
        kb_loaded, subscribers, run_jobs, tmp_path, django_capture_on_commit_callbacks):
    from souverain.sovereignty.services import load_knowledge_base

    mailbox, receiver = subscribers
    with django_capture_on_commit_callbacks(execute=True):
        apply_document(_estate())
    run_jobs(alerts.EXPOSURE_JOB_KIND)  # the estate apply's check: the first look records, tells nothing
    assert ExposureState.objects.count() == 2 and not Notification.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        load_knowledge_base(_extra_law(tmp_path, "DE"))
    [job] = run_jobs(alerts.EXPOSURE_JOB_KIND)
    assert (job.status, job.counts.get("alerts")) == ("succeeded", 1), job.errors
    [notification] = Notification.objects.all()
    frankfurt = Region.objects.get(slug="frankfurt")
    assert notification.event == "alert.exposure_changed"
    assert notification.link == f"/regions/{frankfurt.pk}/"
    assert notification.payload["law"] == "xx-data-act" and notification.payload["channels"] == ["data_location"]
    assert notification.payload["trigger"] == "kb"
    assert "localisation des données" in notification.subject_fr and "Frankfurt" in notification.subject_en
    run_jobs(services.JOB_KIND)

    assert len(mailbox.messages) == 1
    assert "Data Access Act atteint désormais Nuage / Frankfurt" in mailbox.messages[0][1]["Subject"]
    [document] = receiver.verified()
    assert len(receiver.requests) == 1
    assert document["payload"]["region"] == "frankfurt" and document["event"] == "alert.exposure_changed"

    # Checking again (the periodic pass) finds nothing new.
    assert alerts.check_exposure() == []


def test_an_estate_change_moving_a_region_into_a_laws_reach_is_told(kb_loaded, tmp_path,
                                                                      django_capture_on_commit_callbacks):
    from souverain.sovereignty.services import load_knowledge_base

    load_knowledge_base(_extra_law(tmp_path, "DE"))
    apply_document(_estate())
    assert alerts.check_exposure() == []  # first look
    moved = _estate()
    moved["clouds"][0]["regions"][0]["backup_datacenters"] = ["dc-frankfurt"]  # Paris now backs up in Germany
    apply_document(moved)
    told = alerts.check_exposure("estate")
    assert [(n.payload["region"], n.payload["law"]) for n in told] == [("paris", "xx-data-act")]
    assert alerts.check_exposure("estate") == []


def test_failing_sync_and_stale_cloud_are_told_once_per_episode(settings):
    from souverain.inventory.models import SyncState

    settings.SOUVERAIN_SYNC_INTERVAL = 300
    apply_document(_estate())
    cloud = Cloud.objects.get()
    paris = Region.objects.get(slug="paris")
    now = timezone.now()
    state = SyncState.objects.create(cloud=cloud, region=paris, kind="server", status=SyncState.Status.OK,
                                     last_success=now - dt.timedelta(seconds=60))
    # A kind never listed yet does not hide the region's staleness, nor is it stale itself.
    SyncState.objects.create(cloud=cloud, region=paris, kind="volume", status=SyncState.Status.NEVER)
    assert alerts.check_syncs(now) == []

    state.status, state.error = SyncState.Status.STALE, "HTTP 503 from nova"
    state.save()
    [failed] = alerts.check_syncs(now)
    assert failed.event == "alert.sync_failed" and "HTTP 503" in failed.body_en and failed.link == "/sync/"
    assert alerts.check_syncs(now) == []

    later = now + dt.timedelta(seconds=700)
    [stale] = alerts.check_syncs(later)
    assert stale.event == "alert.cloud_stale" and stale.payload["region"] == "paris"
    assert alerts.check_syncs(later + dt.timedelta(seconds=60)) == []

    # A success ends the episode; the next failure is a new fact.
    state.status, state.last_success = SyncState.Status.OK, later
    state.save()
    assert alerts.check_syncs(later) == []
    state.status = SyncState.Status.STALE
    state.save()
    assert [n.event for n in alerts.check_syncs(later)] == ["alert.sync_failed"]


def test_a_failing_audit_verification_is_told_once():
    from django.db import connection

    from souverain.audit import services as audit

    services.notify("x", subject="something audited")
    assert alerts.check_audit() is None
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET object_repr = 'tampered' WHERE seq = 1")
    told = alerts.check_audit()
    assert told is not None and told.event == "alert.audit_verification_failed"
    assert told.payload["first_bad_seq"] == 1
    assert alerts.audit_verification_failed(audit.verify()).pk == told.pk


def test_the_daily_task_verifies_the_whole_chain_past_the_last_checkpoint(settings):
    from django.db import connection

    from souverain.audit import services as audit
    from souverain.notifications import tasks

    services.notify("x", subject="before the checkpoints")
    audit.make_checkpoint()
    services.notify("x", subject="between the checkpoints")
    audit.make_checkpoint()
    services.notify("x", subject="after the checkpoints")
    assert tasks.verify_audit() is True
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET object_repr = 'tampered' WHERE seq = 1")
    assert alerts.check_audit() is None  # the periodic pass looks past the last checkpoint only
    assert tasks.verify_audit() is False
    assert Notification.objects.get(event="alert.audit_verification_failed").payload["first_bad_seq"] == 1
    assert settings.CELERY_BEAT_SCHEDULE["notifications-audit-verify"]["schedule"] == 86400.0


def test_the_periodic_pass_runs_every_check(settings):
    apply_document(_estate())
    assert settings.CELERY_BEAT_SCHEDULE["notifications-alerts"]["task"] == "souverain.notifications.tasks.alerts"
    from souverain.notifications import tasks

    # Far from the certificate's end and nothing else wrong: nothing to tell; at its end, the expiry is told.
    today = timezone.localdate()
    cert = Certification.objects.get()
    cert.valid_until = today + dt.timedelta(days=200)
    cert.save()
    assert tasks.alerts() == 0
    cert.valid_until = today - dt.timedelta(days=1)
    cert.save()
    assert tasks.alerts() == 1
    assert tasks.alerts() == 0


def test_a_new_critical_violation_is_told_once_to_the_operator_and_its_tenant(tenants):
    from souverain.inventory.tests.factories import make_resource
    from souverain.policy.models import Violation

    apply_document(_estate())
    cloud = Cloud.objects.get()
    resource = make_resource(cloud, name="db-ministere", external_id="srv-1")
    resource.tenant = tenants["home"]
    resource.save()
    now = timezone.now()
    common = {"resource": resource, "tenant": tenants["home"], "region": resource.region, "first_seen": now,
              "last_seen": now, "reason": {"message_fr": "Données DR hors d'une région qualifiée"}}
    Violation.objects.create(rule="secnumcloud.qualified", severity="high", message="not critical", **common)
    critical = Violation.objects.create(rule="dr.outside", severity="critical",
                                        message="DR data outside a qualified region", **common)
    told = alerts.check_violations(now)
    assert sorted((n.tenant_id or 0, n.payload["violation"]) for n in told) == [
        (0, critical.pk), (tenants["home"].pk, critical.pk)]
    assert told[0].link == f"/inventory/{resource.pk}/"
    assert told[0].body_fr == "Données DR hors d'une région qualifiée"
    assert alerts.check_violations(now) == []
    # An old one (before the look-back) is not news.
    Violation.objects.filter(pk=critical.pk).update(resolved_at=now)
    Violation.objects.create(rule="dr.outside", severity="critical", message="old", **{
        **common, "first_seen": now - dt.timedelta(days=30)})
    assert alerts.check_violations(now) == []


def test_the_schedules_short_retry_entry_does_not_take_the_syncs_place_at_start(settings):
    import time

    from souverain.jobs.worker import _schedule

    settings.SOUVERAIN_SYNC_AT_START = True
    entries = {e["name"]: e for e in _schedule()}
    assert entries["notifications-retry"]["every"] < entries["inventory-incremental-sync"]["every"]
    assert entries["inventory-incremental-sync"]["next"] <= time.monotonic()
    assert entries["notifications-retry"]["next"] > time.monotonic()
