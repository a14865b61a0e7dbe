"""The access network: nodes (switches, OLTs, DSLAMs, aggregation), their ports, which
subscriber hangs on which port, and the port time series gathered by SNMP polling."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beskontakt.subscribers.models import District, Subscriber


class OperStatus(models.IntegerChoices):
    """ifOperStatus / ifAdminStatus values of IF-MIB (RFC 2863)."""

    UP = 1, _("up")
    DOWN = 2, _("down")
    TESTING = 3, _("testing")
    UNKNOWN = 4, _("unknown")
    DORMANT = 5, _("dormant")
    NOT_PRESENT = 6, _("not present")
    LOWER_LAYER_DOWN = 7, _("lower layer down")


class Node(models.Model):
    """A managed device of the access network, polled over SNMP.

    Access switches, OLTs and DSLAMs carry subscriber ports; an aggregation node
    collects their uplinks (``parent``). SNMP secrets (community, v3 keys) are stored
    encrypted (``network.credentials``); ``poll_status`` is the last poll's outcome.
    """

    class Kind(models.TextChoices):
        ACCESS_SWITCH = "access_switch", _("Access switch")
        OLT = "olt", _("OLT")
        DSLAM = "dslam", _("DSLAM")
        AGGREGATION = "aggregation", _("Aggregation")

    class Version(models.TextChoices):
        V2C = "v2c", "SNMPv2c"
        V3 = "v3", "SNMPv3"

    class AuthProtocol(models.TextChoices):
        NONE = "none", _("none")
        MD5 = "md5", "MD5"
        SHA = "sha", "SHA"
        SHA256 = "sha256", "SHA-256"
        SHA512 = "sha512", "SHA-512"

    class PrivProtocol(models.TextChoices):
        NONE = "none", _("none")
        DES = "des", "DES"
        AES128 = "aes128", "AES-128"
        AES256 = "aes256", "AES-256"

    class PollStatus(models.TextChoices):
        NEVER = "never", _("not polled yet")
        OK = "ok", _("answers")
        TIMEOUT = "timeout", _("no answer")
        ERROR = "error", _("error")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ACCESS_SWITCH)
    vendor = models.CharField(_("vendor"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="nodes", verbose_name=_("district")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        verbose_name=_("uplink node"),
    )
    address = models.CharField(_("management address"), max_length=253)
    snmp_port = models.PositiveIntegerField(_("SNMP port"), default=161)
    snmp_version = models.CharField(_("SNMP version"), max_length=3, choices=Version.choices, default=Version.V2C)
    community_sealed = models.TextField(_("community (encrypted)"), blank=True, editable=False)
    v3_user = models.CharField(_("SNMPv3 user"), max_length=64, blank=True)
    v3_auth_protocol = models.CharField(
        _("SNMPv3 authentication"), max_length=8, choices=AuthProtocol.choices, default=AuthProtocol.NONE
    )
    v3_auth_key_sealed = models.TextField(_("SNMPv3 auth key (encrypted)"), blank=True, editable=False)
    v3_priv_protocol = models.CharField(
        _("SNMPv3 privacy"), max_length=8, choices=PrivProtocol.choices, default=PrivProtocol.NONE
    )
    v3_priv_key_sealed = models.TextField(_("SNMPv3 privacy key (encrypted)"), blank=True, editable=False)
    enabled = models.BooleanField(_("polled"), default=True)
    poll_interval_seconds = models.PositiveIntegerField(_("poll every, seconds"), default=300)
    polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    poll_status = models.CharField(_("last poll"), max_length=8, choices=PollStatus.choices, default=PollStatus.NEVER)
    poll_error = models.CharField(_("last poll error"), max_length=200, blank=True)
    poll_ms = models.PositiveIntegerField(_("last poll, ms"), null=True, blank=True)
    uptime_ticks = models.BigIntegerField(_("sysUpTime at last poll"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("node")
        verbose_name_plural = _("nodes")
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "polled_at"], name="node_due")]

    def __str__(self) -> str:
        return self.name


class Port(models.Model):
    """An interface of a node (by ifIndex): a subscriber port, a PON port shared by many, or an uplink."""

    class Kind(models.TextChoices):
        ETHERNET = "ethernet", _("Ethernet")
        PON = "pon", _("PON")
        DSL = "dsl", _("DSL")
        OTHER = "other", _("other")

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="ports", verbose_name=_("node"))
    if_index = models.PositiveIntegerField(_("ifIndex"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    alias = models.CharField(_("description"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ETHERNET)
    speed_bps = models.BigIntegerField(_("speed, bit/s"), null=True, blank=True)
    is_uplink = models.BooleanField(_("uplink"), default=False)

    class Meta:
        verbose_name = _("port")
        verbose_name_plural = _("ports")
        ordering = ["node", "if_index"]
        constraints = [models.UniqueConstraint(fields=["node", "if_index"], name="port_node_ifindex")]

    def __str__(self) -> str:
        return f"{self.node.name} {self.name or self.if_index}"


class SubscriberPort(models.Model):
    """Which port a subscriber hangs on (one port per subscriber; a PON port serves many)."""

    subscriber = models.OneToOneField(
        Subscriber, on_delete=models.CASCADE, related_name="line", verbose_name=_("subscriber")
    )
    port = models.ForeignKey(Port, on_delete=models.CASCADE, related_name="subscribers", verbose_name=_("port"))
    since = models.DateTimeField(_("connected since"), default=timezone.now)

    class Meta:
        verbose_name = _("subscriber port")
        verbose_name_plural = _("subscriber ports")

    def __str__(self) -> str:
        return f"{self.subscriber_id} → {self.port_id}"


class PortSample(models.Model):
    """One poll of one port: status, raw counters, and what changed since the previous poll.

    ``errors_delta``/``discards_delta`` are the growth of in+out errors/discards since the
    previous sample (``None`` after a counter reset), ``flaps`` the link changes seen
    (``ifLastChange`` moved), rates and utilisation come from the octet counters.
    Kept for ``NETWORK_SAMPLE_RETENTION_DAYS``.
    """

    port = models.ForeignKey(Port, on_delete=models.CASCADE, related_name="samples", verbose_name=_("port"))
    at = models.DateTimeField(_("sampled at"))
    oper_status = models.PositiveSmallIntegerField(_("link"), choices=OperStatus.choices, null=True)
    admin_status = models.PositiveSmallIntegerField(_("admin state"), choices=OperStatus.choices, null=True)
    last_change_ticks = models.BigIntegerField(_("ifLastChange"), null=True)
    in_errors = models.BigIntegerField(_("in errors"), null=True)
    out_errors = models.BigIntegerField(_("out errors"), null=True)
    in_discards = models.BigIntegerField(_("in discards"), null=True)
    out_discards = models.BigIntegerField(_("out discards"), null=True)
    in_octets = models.DecimalField(_("in octets"), max_digits=20, decimal_places=0, null=True)
    out_octets = models.DecimalField(_("out octets"), max_digits=20, decimal_places=0, null=True)
    errors_delta = models.BigIntegerField(_("new errors"), null=True)
    discards_delta = models.BigIntegerField(_("new discards"), null=True)
    flaps = models.PositiveSmallIntegerField(_("link changes"), default=0)
    in_bps = models.FloatField(_("in, bit/s"), null=True)
    out_bps = models.FloatField(_("out, bit/s"), null=True)
    util_in = models.FloatField(_("utilisation in"), null=True)
    util_out = models.FloatField(_("utilisation out"), null=True)

    class Meta:
        verbose_name = _("port sample")
        verbose_name_plural = _("port samples")
        indexes = [
            models.Index(fields=["port", "at"], name="portsample_port_at"),
            models.Index(fields=["at"], name="portsample_at"),
        ]

    def __str__(self) -> str:
        return f"{self.port_id} @ {self.at:%Y-%m-%d %H:%M}"


class PortState(models.Model):
    """The latest known state of a port, for fast reads (one row per port).

    Also holds the previous counters (and the node's uptime and the port's
    ifCounterDiscontinuityTime then) that the next poll's rates are computed against.
    """

    port = models.OneToOneField(
        Port, primary_key=True, on_delete=models.CASCADE, related_name="state", verbose_name=_("port")
    )
    at = models.DateTimeField(_("sampled at"))
    oper_status = models.PositiveSmallIntegerField(_("link"), choices=OperStatus.choices, null=True)
    admin_status = models.PositiveSmallIntegerField(_("admin state"), choices=OperStatus.choices, null=True)
    last_change_ticks = models.BigIntegerField(_("ifLastChange"), null=True)
    last_change_at = models.DateTimeField(_("link changed"), null=True)
    uptime_ticks = models.BigIntegerField(_("sysUpTime"), null=True)
    discontinuity = models.BigIntegerField(_("counter discontinuity"), null=True)
    counter_bits = models.PositiveSmallIntegerField(_("counter width"), default=64)
    in_errors = models.BigIntegerField(_("in errors"), null=True)
    out_errors = models.BigIntegerField(_("out errors"), null=True)
    in_discards = models.BigIntegerField(_("in discards"), null=True)
    out_discards = models.BigIntegerField(_("out discards"), null=True)
    in_octets = models.DecimalField(_("in octets"), max_digits=20, decimal_places=0, null=True)
    out_octets = models.DecimalField(_("out octets"), max_digits=20, decimal_places=0, null=True)
    in_bps = models.FloatField(_("in, bit/s"), null=True)
    out_bps = models.FloatField(_("out, bit/s"), null=True)
    util_in = models.FloatField(_("utilisation in"), null=True)
    util_out = models.FloatField(_("utilisation out"), null=True)
    flap_count = models.PositiveIntegerField(_("link changes seen"), default=0)
    last_flap_at = models.DateTimeField(_("last link change seen"), null=True)

    class Meta:
        verbose_name = _("port state")
        verbose_name_plural = _("port states")

    def __str__(self) -> str:
        return f"{self.port_id}: {self.get_oper_status_display()}"
