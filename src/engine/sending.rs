//! How a request step's requests go out, once the step is rendered: in a load run its driver sends them
//! while this task prepares each one as room opens and judges each answer as it comes ([`Sending::driven`]);
//! otherwise the step's own tasks send them, at most `concurrency` at a time, each on a lane of its own
//! ([`Sending::on_lanes`]). Either way every answer goes to the step's [`Collector`].

use std::sync::Arc;

use tokio::task::JoinSet;

use super::collect::{Collector, StepResult};
use super::interrupt::Interrupt;
use super::meter::{DrivenAnswer, DrivenStep, Driver, Meter, QueuedRequest, request_queue};
use crate::target::{Lane, PreparedRequest, TargetClient};

/// One request step's sending: what it sends, how many at once, and where the answers go.
pub(super) struct Sending<'a, 'c> {
    pub client: &'a TargetClient,
    pub interrupt: &'a Interrupt,
    /// The scenario's name and the step's.
    pub names: (&'a str, &'a str),
    /// Requests in all.
    pub repeat: u64,
    /// At most this many in flight.
    pub concurrency: usize,
    pub collector: &'a mut Collector<'c>,
    /// The request of a given index (from 0), rendered; `Err` blocks the step.
    pub next_request: &'a mut (dyn FnMut(u64) -> Result<Arc<PreparedRequest>, String> + Send),
    /// Told how many answers are in, after each.
    pub tell_progress: &'a mut (dyn FnMut(u64) + Send),
}

impl Sending<'_, '_> {
    /// Hands the requests to `meter`'s driver, which sends them; prepares and judges here. `Ok` with how many
    /// requests were sent (prepared and taken), or the step blocked.
    pub(super) async fn driven(
        self,
        meter: &Meter,
        number: u16,
        driver: Arc<dyn Driver>,
    ) -> Result<u64, StepResult> {
        let (scenario_name, step_name) = self.names;
        let mut next_index = 0;
        // A load run's driver sends; this task prepares each request as room opens and judges each answer.
        let (requests, queue) = request_queue(self.concurrency.saturating_mul(2));
        // What is left in the queue when the driver stops was prepared but never sent.
        let unsent = queue.clone();
        let (answers_sender, mut answers) = tokio::sync::mpsc::unbounded_channel();
        let dropped = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let driving = tokio::spawn(driver.drive(DrivenStep {
            client: self.client.clone(),
            users: self.concurrency,
            total: self.repeat,
            number,
            name: step_name.to_owned(),
            requests: queue,
            answers: answers_sender,
            dropped: dropped.clone(),
        }));
        let mut requests = (self.repeat > 0).then_some(requests);
        let mut batch = Vec::with_capacity(256);
        // The next request, prepared and waiting for room in the queue.
        let mut sending: Option<flume::r#async::SendFut<'static, QueuedRequest>> = None;
        loop {
            if sending.is_none()
                && let Some(sender) = &requests
            {
                match (self.next_request)(next_index) {
                    Ok(request) => {
                        let queued = QueuedRequest {
                            index: next_index,
                            request,
                        };
                        sending = Some(sender.clone().into_send_async(queued));
                    }
                    Err(reason) => {
                        driving.abort();
                        let _ = driving.await;
                        return Err(StepResult::blocked(reason));
                    }
                }
                next_index += 1;
                if next_index == self.repeat {
                    requests = None;
                }
            }
            tokio::select! {
                () = self.interrupt.stopped() => {
                    // Awaited once aborted: what the driver holds (goose's hold on stdout) is let go
                    // before anything is reported.
                    driving.abort();
                    let _ = driving.await;
                    meter.end_step(dropped.load(std::sync::atomic::Ordering::Relaxed));
                    return Err(StepResult::blocked(super::INTERRUPTED_DURING.to_owned()));
                }
                Some(_) = futures_util::future::OptionFuture::from(sending.as_mut()), if sending.is_some() => {
                    // `unsent` keeps the queue open, so a send only waits for room: what a driver that
                    // stopped early never took is counted off below, once its answers have ended.
                    sending = None;
                }
                received = answers.recv_many(&mut batch, 256) => match received {
                    0 => break,
                    _ => {
                        meter.record_all(number, &batch);
                        for answer in batch.drain(..) {
                            self.collector.add(self.client, answer.index, answer.request, answer.outcome);
                        }
                        (self.tell_progress)(self.collector.answered());
                        // Every request prepared, and each answered or dropped: the step is done, whatever
                        // the driver still has to wind down.
                        if requests.is_none()
                            && sending.is_none()
                            && self.collector.answered() + dropped.load(std::sync::atomic::Ordering::Relaxed)
                                >= next_index
                        {
                            break;
                        }
                    }
                },
            }
        }
        let every_answer_in = requests.is_none()
            && sending.is_none()
            && self.collector.answered() + dropped.load(std::sync::atomic::Ordering::Relaxed)
                >= next_index;
        if self.interrupt.fired() && !every_answer_in {
            // The driver may have stopped for the interrupt before the engine heard of it.
            driving.abort();
            let _ = driving.await;
            meter.end_step(dropped.load(std::sync::atomic::Ordering::Relaxed));
            return Err(StepResult::blocked(super::INTERRUPTED_DURING.to_owned()));
        }
        // Prepared, never taken: the driver stopped first (the open model's dropped starts are never taken).
        next_index -= u64::from(sending.is_some()) + unsent.waiting() as u64;
        meter.end_step(dropped.load(std::sync::atomic::Ordering::Relaxed));
        if !answers.is_closed() && !driving.is_finished() {
            // Every answer is in and judged; the driver is still winding down (goose notices its users
            // have stopped on a half-second tick). The run waits for it before it reports, not here.
            meter.linger(scenario_name, step_name, driving);
        } else {
            match driving.await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => {
                    return Err(StepResult::blocked(format!(
                        "the load driver stopped: {reason}"
                    )));
                }
                Err(err) => {
                    return Err(StepResult::blocked(format!(
                        "the load driver failed: {err}"
                    )));
                }
            }
        }
        Ok(next_index)
    }

    /// Sends the requests from this task, at most `concurrency` at a time, each on a lane of its own; times
    /// each answer on `meter` when the step is metered. `Ok` with how many were sent, or the step blocked.
    pub(super) async fn on_lanes(self, meter: Option<(&Meter, u16)>) -> Result<u64, StepResult> {
        let mut next_index = 0;
        // Each request in flight sends on a lane of its own (its own keep-alive connection), handed back
        // when it is answered: a step keeps at most `concurrency` connections.
        let mut lanes: Vec<Lane> = Vec::new();
        let mut in_flight: JoinSet<(DrivenAnswer, Lane)> = JoinSet::new();
        loop {
            if self.interrupt.fired() && (next_index < self.repeat || !in_flight.is_empty()) {
                in_flight.abort_all();
                return Err(StepResult::blocked(super::INTERRUPTED_DURING.to_owned()));
            }
            while in_flight.len() < self.concurrency && next_index < self.repeat {
                let request = match (self.next_request)(next_index) {
                    Ok(request) => request,
                    Err(reason) => {
                        in_flight.abort_all();
                        return Err(StepResult::blocked(reason));
                    }
                };
                let mut lane = lanes.pop().unwrap_or_else(|| self.client.lane());
                let queued = QueuedRequest {
                    index: next_index,
                    request,
                };
                in_flight.spawn(async move { (queued.send_on(&mut lane).await, lane) });
                next_index += 1;
            }
            match in_flight.join_next().await {
                Some(Ok((answer, lane))) => {
                    lanes.push(lane);
                    if let Some((meter, number)) = meter {
                        meter.record(number, &answer);
                    }
                    self.collector
                        .add(self.client, answer.index, answer.request, answer.outcome);
                    (self.tell_progress)(self.collector.answered());
                }
                Some(Err(err)) => {
                    return Err(StepResult::blocked(format!("a request task failed: {err}")));
                }
                None => break,
            }
        }
        if let Some((meter, _)) = meter {
            meter.end_step(0);
        }
        Ok(next_index)
    }
}
