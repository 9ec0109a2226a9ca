"""The database adapter of the estate snapshot: the ORM rows of the estate app as ``snapshot.EstateData``.

``estate/snapshot.py`` holds the plain-data estate and its estate-file adapter; it, ``exposure.py`` and
``ownership.py`` import no Django, so the CLI's ``place --estate FILE`` and the what-if tools run them without a
database or settings (``core/tests/test_layering.py`` keeps it so). Reading the database lives here, on the ORM
side of that line, and is the only place that knows both the models and the dataclasses.

The estate is read in a fixed number of queries (select/prefetch related), whatever its size: the portal and
placement read it once per request or per cached context.
"""

from __future__ import annotations

from .models import Certification, Cloud, Datacenter, LegalEntity, Shareholding
from .ownership import Holding
from .snapshot import CertificationData, CloudData, DatacenterData, EntityData, EstateData, RegionData


def from_database() -> EstateData:
    """The whole estate as plain data, as the database holds it now."""
    estate = EstateData()
    for entity in LegalEntity.objects.select_related("parent"):
        estate.entities[entity.slug] = EntityData(
            id=entity.slug, name=entity.name, country=entity.country, kind=entity.kind,
            dpf_certified=entity.dpf_certified, dpf_since=entity.dpf_since, dpf_until=entity.dpf_until,
        )
        if entity.parent_id:
            estate.parents[entity.slug] = entity.parent.slug
    for share in Shareholding.objects.select_related("owned", "holder"):
        estate.holdings.append(Holding(share.owned.slug, share.holder.slug, float(share.capital), float(share.voting)))
    for dc in Datacenter.objects.select_related("operator"):
        estate.datacenters[dc.slug] = DatacenterData(dc.slug, dc.name, dc.operator.slug, dc.country, dc.city, dc.tier)
    certs = list(Certification.objects.select_related("region"))
    clouds = Cloud.objects.select_related("operator", "stack_vendor").prefetch_related(
        "hardware_vendors", "dedicated_to", "regions__datacenters", "regions__backup_datacenters",
        "regions__availability_zones",
    )
    for cloud in clouds:
        data = CloudData(
            id=cloud.slug, name=cloud.name, kind=cloud.kind, operator=cloud.operator.slug,
            clouds_yaml=cloud.clouds_yaml_entry, endpoint=cloud.endpoint,
            stack_distribution=cloud.stack_distribution,
            stack_vendor=cloud.stack_vendor.slug if cloud.stack_vendor_id else None,
            vendor_access=cloud.vendor_access, hardware_vendors=[v.slug for v in cloud.hardware_vendors.all()],
            admin_staff_countries=list(cloud.admin_staff_countries),
            support_staff_countries=list(cloud.support_staff_countries),
            key_custody=cloud.key_custody, key_custody_country=cloud.key_custody_country, pk=cloud.pk,
            dedicated_to=sorted(t.slug for t in cloud.dedicated_to.all()),
        )
        for region in cloud.regions.all():
            data.regions[region.slug] = RegionData(
                id=region.slug, name=region.name, pk=region.pk,
                datacenters=[d.slug for d in region.datacenters.all()],
                backup_datacenters=[d.slug for d in region.backup_datacenters.all()],
                availability_zones=[z.name for z in region.availability_zones.all()],
            )
        estate.clouds[cloud.slug] = data
    by_pk = {c.pk: c for c in estate.clouds.values()}
    for cert in certs:
        cloud_data = by_pk.get(cert.cloud_id)
        if cloud_data is None:
            continue
        item = CertificationData(
            scheme=cert.scheme, version=cert.version, level=cert.level, scope=cert.scope,
            valid_from=cert.valid_from, valid_until=cert.valid_until, evidence_url=cert.evidence_url,
            region=cert.region.slug if cert.region_id else None,
        )
        if cert.region_id:
            cloud_data.regions[cert.region.slug].certifications.append(item)
        else:
            cloud_data.certifications.append(item)
    return estate
