"""Wiring of what leaves a process: events (Pub/Sub, or the in-process subscribers), silent
pushes (APNs and FCM, or the log) and tasks (Cloud Tasks, or the Postgres queue)."""

from __future__ import annotations

from app.settings import EventsTransport, PushTransport, Settings, TasksTransport
from datastore.postgres.task_queue import PostgresTaskQueue
from domain.common import Clock
from domain.devices.model import Platform
from domain.events import EventPublisher
from domain.push.ports import PushSender
from domain.tasks import TaskScheduler
from events.in_process import InProcessPublisher


def event_publisher(settings: Settings, handlers: InProcessPublisher) -> EventPublisher:
    match settings.events_transport:
        case EventsTransport.PUBSUB:
            from events.pubsub import PubSubPublisher

            assert settings.firebase_project_id is not None  # check() guarantees it
            return PubSubPublisher(settings.firebase_project_id, settings.pubsub_topic)
        case EventsTransport.IN_PROCESS:
            return handlers


def push_senders(settings: Settings, clock: Clock) -> dict[Platform, PushSender]:
    match settings.push_transport:
        case PushTransport.LOG:
            from notifications.log_sender import LogPushSender

            log_sender = LogPushSender()
            return {Platform.IOS: log_sender, Platform.ANDROID: log_sender}
        case PushTransport.LIVE:
            from notifications.apns import ApnsConfig, ApnsSender
            from notifications.fcm import FcmConfig, FcmSender

            assert settings.apns_key_file is not None  # check() guarantees these
            assert settings.apns_key_id
            assert settings.apns_team_id
            assert settings.apns_topic
            assert settings.firebase_project_id is not None
            apns = ApnsConfig(
                key_id=settings.apns_key_id,
                team_id=settings.apns_team_id,
                topic=settings.apns_topic,
                private_key_pem=settings.apns_key_file.read_text(),
                production_url=settings.apns_production_url,
                sandbox_url=settings.apns_sandbox_url,
                ca_file=settings.apns_ca_file,
            )
            fcm = FcmConfig(
                project_id=settings.firebase_project_id,
                credentials_file=settings.fcm_credentials_file,
                base_url=settings.fcm_base_url,
            )
            return {
                Platform.IOS: ApnsSender(apns, clock=clock),
                Platform.ANDROID: FcmSender(fcm, clock=clock),
            }


def task_scheduler(settings: Settings, queue: PostgresTaskQueue) -> TaskScheduler:
    match settings.tasks_transport:
        case TasksTransport.POSTGRES:
            return queue
        case TasksTransport.CLOUD_TASKS:
            from jobs.cloud_tasks import CloudTasksScheduler, cloud_tasks_client

            assert settings.firebase_project_id
            assert settings.cloud_tasks_target_url
            assert settings.internal_invoker is not None
            return CloudTasksScheduler(
                project_id=settings.firebase_project_id,
                location=settings.cloud_tasks_location,
                queue=settings.cloud_tasks_queue,
                target_base_url=settings.cloud_tasks_target_url,
                service_account_email=settings.internal_invoker,
                audience=settings.internal_audience,
                client=cloud_tasks_client(settings.cloud_tasks_emulator_host),
            )
