//! The passwordless recipe: createCode, resendCode and consumeCode (by user input code or magic link), and
//! the email / phone number exists checks.

use auth_api::ops::{
    consume_code, create_code, passwordless_email_exists, passwordless_phone_number_exists, resend_code,
};
use auth_api::types::{
    ConsumeCodeOk, ConsumeCodeResponse, CreateCodeOk, CreateCodeResponse, ExistsOk, ExistsResponse,
    ExpiredUserInputCodeError, FlowType, GeneralError, IncorrectUserInputCodeError, ResendCodeResponse,
    RestartFlowError, StatusOk,
};

use super::{AuthRecipes, Failure, fdi_user, message, too_many_requests};
use crate::audit;
use crate::config::BASE_PATH;
use crate::contact::{self, Contact};
use crate::delivery::CodeMessage;
use crate::ids;
use crate::now_ms;
use crate::session::transport::SessionHeaders;
use crate::store::{AddCode, CodeRecord, DeviceRecord, FailedAttempt, NewDevice, Store};
use crate::tenants::Tenant;

/// Why a createCode body names no usable contact.
enum ContactInputError {
    /// 400 with this message.
    BadRequest(&'static str),
    /// 200 GENERAL_ERROR with this message.
    Invalid(&'static str),
}

/// Why a consume is answered with an error status.
enum Refused {
    /// 400 with this message.
    BadRequest(&'static str),
    /// 401: the code's factor is not a first factor of the tenant.
    Unauthorised,
}

/// A consume answer: the 200 body with the session headers of a new session, or an error status.
type Consumed = Result<(ConsumeCodeResponse, Option<SessionHeaders>), Refused>;

/// The factors a code sent to `contact` in `flow` stands for (`otp-email`, `link-phone`, ...).
fn code_factors(contact: &Contact, flow: FlowType) -> Vec<&'static str> {
    let (otp, link) = match contact {
        Contact::Email(_) => ("otp-email", "link-email"),
        Contact::Phone(_) => ("otp-phone", "link-phone"),
    };
    let mut factors = Vec::with_capacity(2);
    if matches!(flow, FlowType::UserInputCode | FlowType::UserInputCodeAndMagicLink) {
        factors.push(otp);
    }
    if matches!(flow, FlowType::MagicLink | FlowType::UserInputCodeAndMagicLink) {
        factors.push(link);
    }
    factors
}

/// The flow of the codes sent to `contact` on `tenant`: of the factors its flow type offers, those that are
/// first factors of the tenant (only `otp-*`: codes, only `link-*`: magic links, both: both), as
/// supertokens-node works it out; `None` when there is none.
fn tenant_flow(tenant: &Tenant, contact: &Contact) -> Option<FlowType> {
    let allowed: Vec<&str> =
        code_factors(contact, tenant.flow_type).into_iter().filter(|f| tenant.allows_any(&[f])).collect();
    match (allowed.iter().any(|f| f.starts_with("otp-")), allowed.iter().any(|f| f.starts_with("link-"))) {
        (true, true) => Some(FlowType::UserInputCodeAndMagicLink),
        (true, false) => Some(FlowType::UserInputCode),
        (false, true) => Some(FlowType::MagicLink),
        (false, false) => None,
    }
}

/// The 401 of supertokens-node when no factor of a sign-in is a first factor of the tenant (its session error
/// UNAUTHORISED, "A valid session is required to authenticate with secondary factors").
pub(super) fn unauthorised() -> auth_api::types::ErrorMessage {
    message("unauthorised")
}

/// The outcome of checking a code against a device.
enum CodeCheck {
    /// A live code matched.
    Matched,
    /// A code matched but has expired.
    Expired,
    /// No code matched.
    NoMatch,
}

pub(super) async fn create_code<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: create_code::Request,
) -> create_code::Response {
    use create_code::Response;
    let body = request.body;
    let contact = match contact_from_input(tenant, body.email.as_deref(), body.phone_number.as_deref()) {
        Ok(contact) => contact,
        Err(ContactInputError::BadRequest(text)) => return Response::BadRequest(message(text)),
        Err(ContactInputError::Invalid(text)) => {
            return Response::Ok(CreateCodeResponse::GeneralError(GeneralError { message: text.to_owned() }));
        }
    };
    let Some(flow) = tenant_flow(tenant, &contact) else { return Response::Unauthorized(unauthorised()) };
    match recipes.codes_over_limit(&contact).await {
        Ok(Some(seconds)) => return too_many_requests!(create_code, seconds),
        Ok(None) => {}
        Err(failure) => return Response::InternalServerError(failure.into_body("createCode")),
    }
    match recipes.start_device(tenant, flow, contact).await {
        Ok(ok) => Response::Ok(CreateCodeResponse::Ok(ok)),
        Err(failure) => Response::InternalServerError(failure.into_body("createCode")),
    }
}

pub(super) async fn resend_code<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: resend_code::Request,
) -> resend_code::Response {
    use resend_code::Response;
    let body = request.body;
    if body.device_id.is_empty() {
        return Response::BadRequest(message("Please provide a deviceId"));
    }
    if body.pre_auth_session_id.is_empty() {
        return Response::BadRequest(message("Please provide preAuthSessionId"));
    }
    match recipes.resend(tenant, &body.device_id, &body.pre_auth_session_id).await {
        Ok(Ok(response)) => Response::Ok(response),
        Ok(Err(seconds)) => too_many_requests!(resend_code, seconds),
        Err(failure) => Response::InternalServerError(failure.into_body("resendCode")),
    }
}

pub(super) async fn consume_code<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: consume_code::Request,
) -> consume_code::Response {
    use consume_code::Response;
    match recipes.client_over_limit("consume-per-client", recipes.config.rate_limits.consume_per_client).await {
        Ok(Some(seconds)) => return too_many_requests!(consume_code, seconds),
        Ok(None) => {}
        Err(failure) => return Response::InternalServerError(failure.into_body("consumeCode")),
    }
    match recipes.consume(tenant, request).await {
        Ok(Ok((body, headers))) => Response::Ok { body, headers: headers.unwrap_or_default().into() },
        Ok(Err(Refused::BadRequest(text))) => Response::BadRequest(message(text)),
        Ok(Err(Refused::Unauthorised)) => Response::Unauthorized(unauthorised()),
        Err(failure) => Response::InternalServerError(failure.into_body("consumeCode")),
    }
}

pub(super) async fn email_exists<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: passwordless_email_exists::Request,
) -> passwordless_email_exists::Response {
    use passwordless_email_exists::Response;
    let email = Contact::Email(request.email.trim().to_lowercase());
    match recipes.store.user_by_contact(&tenant.id, &email).await {
        Ok(user) => Response::Ok(ExistsResponse::Ok(ExistsOk { exists: user.is_some() })),
        Err(e) => Response::InternalServerError(Failure::from(e).into_body("passwordlessEmailExists")),
    }
}

pub(super) async fn phone_number_exists<S: Store>(
    recipes: &AuthRecipes<S>,
    tenant: &Tenant,
    request: passwordless_phone_number_exists::Request,
) -> passwordless_phone_number_exists::Response {
    use passwordless_phone_number_exists::Response;
    let phone = Contact::Phone(contact::phone_number_lookup_key(&request.phone_number));
    match recipes.store.user_by_contact(&tenant.id, &phone).await {
        Ok(user) => Response::Ok(ExistsResponse::Ok(ExistsOk { exists: user.is_some() })),
        Err(e) => Response::InternalServerError(Failure::from(e).into_body("passwordlessPhoneNumberExists")),
    }
}

/// The contact a createCode body names, as the tenant's contact method allows.
fn contact_from_input(
    tenant: &Tenant,
    email: Option<&str>,
    phone_number: Option<&str>,
) -> Result<Contact, ContactInputError> {
    let method = tenant.contact_method;
    match (email, phone_number) {
        (Some(_), Some(_)) | (None, None) => {
            Err(ContactInputError::BadRequest("Please provide exactly one of email or phoneNumber"))
        }
        (None, Some(_)) if !method.allows_phone() => Err(ContactInputError::BadRequest(
            "Please provide an email since you have set the contactMethod to \"EMAIL\"",
        )),
        (Some(_), None) if !method.allows_email() => Err(ContactInputError::BadRequest(
            "Please provide a phoneNumber since you have set the contactMethod to \"PHONE\"",
        )),
        (Some(email), None) => {
            contact::normalise_email(email).map(Contact::Email).ok_or(ContactInputError::Invalid("Email is invalid"))
        }
        (None, Some(phone)) => contact::normalise_phone_number(phone)
            .map(Contact::Phone)
            .ok_or(ContactInputError::Invalid("Phone number is invalid")),
    }
}

impl<S: Store> AuthRecipes<S> {
    fn contact_allowed(tenant: &Tenant, contact: &Contact) -> bool {
        match contact {
            Contact::Email(_) => tenant.contact_method.allows_email(),
            Contact::Phone(_) => tenant.contact_method.allows_phone(),
        }
    }

    /// A new code for a device: the user input code and the record to store.
    fn new_code(device_id: &[u8], salt: &[u8], now: i64) -> Result<(String, CodeRecord), Failure> {
        let user_input_code = ids::user_input_code()?;
        let record = CodeRecord {
            code_id: ids::uuid_v4()?,
            link_code_hash: ids::link_code_hash_for_user_input_code(device_id, salt, &user_input_code),
            created_at_ms: now,
        };
        Ok((user_input_code, record))
    }

    /// Sends a code and/or magic link, as the flow type says.
    async fn send_code(
        &self,
        tenant: &Tenant,
        flow: FlowType,
        recipient: &Contact,
        device_id: &[u8],
        salt: &[u8],
        user_input_code: &str,
    ) -> Result<(), Failure> {
        let pre_auth_session_id = ids::pre_auth_session_id(device_id);
        let with_code = matches!(flow, FlowType::UserInputCode | FlowType::UserInputCodeAndMagicLink);
        let with_link = matches!(flow, FlowType::MagicLink | FlowType::UserInputCodeAndMagicLink);
        let magic_link = with_link.then(|| {
            format!(
                "{}{BASE_PATH}/verify?preAuthSessionId={pre_auth_session_id}&tenantId={}#{}",
                self.config.website_domain,
                tenant.id,
                ids::link_code(device_id, salt, user_input_code)
            )
        });
        let message = CodeMessage {
            recipient: recipient.clone(),
            user_input_code: with_code.then(|| user_input_code.to_owned()),
            magic_link,
            code_lifetime: self.config.code_lifetime,
            pre_auth_session_id,
        };
        Ok(self.delivery.deliver(&message).await?)
    }

    async fn start_device(&self, tenant: &Tenant, flow: FlowType, contact: Contact) -> Result<CreateCodeOk, Failure> {
        let now = now_ms();
        let device_id = ids::random_bytes::<32>()?;
        let salt = ids::random_bytes::<32>()?;
        let (user_input_code, code) = Self::new_code(&device_id, &salt, now)?;
        let device = NewDevice {
            tenant_id: tenant.id.clone(),
            device_id_hash: ids::pre_auth_session_id(&device_id),
            contact,
            link_code_salt: ids::encode_salt(&salt),
            created_at_ms: now,
        };
        self.store.create_device(&device, &code).await?;
        self.send_code(tenant, flow, &device.contact, &device_id, &salt, &user_input_code).await?;
        audit::code_created(&device.contact, false);
        Ok(CreateCodeOk {
            device_id: ids::encode_device_id(&device_id),
            pre_auth_session_id: device.device_id_hash,
            flow_type: flow,
        })
    }

    /// Counts a code sent to `contact` against the limits per client address and per contact; the seconds to
    /// wait when either is reached.
    async fn codes_over_limit(&self, contact: &Contact) -> Result<Option<i64>, Failure> {
        let limits = self.config.rate_limits;
        if let Some(seconds) = self.client_over_limit("codes-per-client", limits.codes_per_client).await? {
            return Ok(Some(seconds));
        }
        let subject = match contact {
            Contact::Email(email) => format!("email:{email}"),
            Contact::Phone(phone) => format!("phone:{phone}"),
        };
        self.over_limit("codes-per-contact", &subject, limits.codes_per_contact).await
    }

    /// A new code for a device, or the seconds to wait when a rate limit is reached.
    async fn resend(
        &self,
        tenant: &Tenant,
        device_id: &str,
        pre_auth_session_id: &str,
    ) -> Result<Result<ResendCodeResponse, i64>, Failure> {
        let restart = ResendCodeResponse::RestartFlowError(RestartFlowError {});
        let Some(device_id) = ids::decode_device_id(device_id) else { return Ok(Ok(restart)) };
        let device_id_hash = ids::pre_auth_session_id(&device_id);
        if !ids::constant_time_eq(&device_id_hash, ids::normalise_pre_auth_session_id(pre_auth_session_id)) {
            return Ok(Ok(restart));
        }
        let Some(device) = self.store.device(&tenant.id, &device_id_hash).await? else { return Ok(Ok(restart)) };
        if !Self::contact_allowed(tenant, &device.contact) {
            return Ok(Ok(restart));
        }
        let Some(flow) = tenant_flow(tenant, &device.contact) else { return Ok(Ok(restart)) };
        if let Some(seconds) = self.codes_over_limit(&device.contact).await? {
            return Ok(Err(seconds));
        }
        let salt = ids::decode_salt(&device.link_code_salt).ok_or(Failure::CorruptSalt)?;
        // A new random code can repeat one the device already has; core gives up after three collisions.
        for _ in 0..3 {
            let (user_input_code, code) = Self::new_code(&device_id, &salt, now_ms())?;
            let keep = self.config.live_codes_per_device;
            match self.store.add_code(&tenant.id, &device_id_hash, &code, keep).await? {
                AddCode::Added => {
                    self.send_code(tenant, flow, &device.contact, &device_id, &salt, &user_input_code).await?;
                    audit::code_created(&device.contact, true);
                    return Ok(Ok(ResendCodeResponse::Ok(StatusOk {})));
                }
                AddCode::DeviceGone => return Ok(Ok(restart)),
                AddCode::Duplicate => continue,
            }
        }
        Ok(Ok(ResendCodeResponse::GeneralError(GeneralError {
            message: "Failed to generate a one time code. Please try again".to_owned(),
        })))
    }

    fn check_code(&self, device: &DeviceRecord, link_code_hash: &str, now: i64) -> CodeCheck {
        let lifetime = i64::try_from(self.config.code_lifetime.as_millis()).unwrap_or(i64::MAX);
        // Every code is compared, so the time taken does not reveal which one matched.
        let matched = device
            .codes
            .iter()
            .filter(|code| ids::constant_time_eq(&code.link_code_hash, link_code_hash))
            .fold(None, |found: Option<&CodeRecord>, code| found.or(Some(code)));
        match matched {
            Some(code) if code.created_at_ms.saturating_add(lifetime) >= now => CodeCheck::Matched,
            Some(_) => CodeCheck::Expired,
            None => CodeCheck::NoMatch,
        }
    }

    async fn consume(&self, tenant: &Tenant, request: consume_code::Request) -> Result<Consumed, Failure> {
        let restart = || Ok(Ok((ConsumeCodeResponse::RestartFlowError(RestartFlowError {}), None)));
        let body = request.body;
        let pre_auth_session_id = ids::normalise_pre_auth_session_id(&body.pre_auth_session_id);
        if pre_auth_session_id.is_empty() {
            return Ok(Err(Refused::BadRequest("Please provide preAuthSessionId")));
        }
        let now = now_ms();
        let otp = match (body.link_code.as_deref(), body.device_id.as_deref(), body.user_input_code.as_deref()) {
            (Some(_), None, None) => None,
            (Some(_), _, _) | (None, None, None) => {
                return Ok(Err(Refused::BadRequest(
                    "Please provide one of (linkCode) or (deviceId+userInputCode) and not both",
                )));
            }
            (None, Some(device_id), Some(code)) => {
                let device_id = ids::decode_device_id(device_id)
                    .filter(|id| ids::constant_time_eq(&ids::pre_auth_session_id(id), pre_auth_session_id));
                let Some(device_id) = device_id else {
                    return Ok(Err(Refused::BadRequest("preAuthSessionId and deviceId do not match")));
                };
                Some((device_id, code))
            }
            (None, _, _) => return Ok(Err(Refused::BadRequest("Please provide both deviceId and userInputCode"))),
        };
        let Some(device) = self.store.device(&tenant.id, pre_auth_session_id).await? else {
            audit::flow_restarted("device_gone");
            return restart();
        };
        let flow = if otp.is_some() { FlowType::UserInputCode } else { FlowType::MagicLink };
        if !tenant.allows_any(&code_factors(&device.contact, flow)) {
            return Ok(Err(Refused::Unauthorised));
        }
        match otp {
            Some((device_id, user_input_code)) => {
                let salt = ids::decode_salt(&device.link_code_salt).ok_or(Failure::CorruptSalt)?;
                let hash = ids::link_code_hash_for_user_input_code(&device_id, &salt, user_input_code);
                let expired = match self.check_code(&device, &hash, now) {
                    CodeCheck::Matched => {
                        audit::code_consumed("user_input_code");
                        return self.sign_in_up(tenant, pre_auth_session_id, request.st_auth_mode.as_deref()).await;
                    }
                    CodeCheck::Expired => true,
                    CodeCheck::NoMatch => false,
                };
                let max = self.config.max_code_input_attempts;
                let attempts = match self.store.record_failed_attempt(&tenant.id, pre_auth_session_id, max).await? {
                    FailedAttempt::Counted(count) => i32::try_from(count).unwrap_or(i32::MAX),
                    FailedAttempt::Exhausted => {
                        audit::flow_restarted("attempts_exhausted");
                        return restart();
                    }
                    FailedAttempt::DeviceGone => {
                        audit::flow_restarted("device_gone");
                        return restart();
                    }
                };
                let maximum = i32::try_from(max).unwrap_or(i32::MAX);
                audit::failed_attempt(expired, attempts, maximum);
                let response = if expired {
                    ConsumeCodeResponse::ExpiredUserInputCodeError(ExpiredUserInputCodeError {
                        failed_code_input_attempt_count: attempts,
                        maximum_code_input_attempts: maximum,
                    })
                } else {
                    ConsumeCodeResponse::IncorrectUserInputCodeError(IncorrectUserInputCodeError {
                        failed_code_input_attempt_count: attempts,
                        maximum_code_input_attempts: maximum,
                    })
                };
                Ok(Ok((response, None)))
            }
            None => {
                let hash = body.link_code.as_deref().and_then(ids::link_code_hash);
                match hash.map(|hash| self.check_code(&device, &hash, now)) {
                    Some(CodeCheck::Matched) => {
                        audit::code_consumed("link_code");
                        self.sign_in_up(tenant, pre_auth_session_id, request.st_auth_mode.as_deref()).await
                    }
                    _ => {
                        audit::flow_restarted("invalid_link");
                        restart()
                    }
                }
            }
        }
    }

    /// Consumes the device (only one concurrent caller wins), signs its contact in or up and starts a
    /// session.
    async fn sign_in_up(
        &self,
        tenant: &Tenant,
        pre_auth_session_id: &str,
        st_auth_mode: Option<&str>,
    ) -> Result<Consumed, Failure> {
        let Some(contact) = self.store.consume_device(&tenant.id, pre_auth_session_id).await? else {
            audit::flow_restarted("device_gone");
            return Ok(Ok((ConsumeCodeResponse::RestartFlowError(RestartFlowError {}), None)));
        };
        let (user, created) = self.store.sign_in_up(&tenant.id, &contact, &ids::uuid_v4()?, now_ms()).await?;
        audit::signed_in("passwordless", None, &user.user_id, created);
        let headers = self.start_session(&user, st_auth_mode).await?;
        let body = ConsumeCodeResponse::Ok(ConsumeCodeOk { created_new_recipe_user: created, user: fdi_user(&user) });
        Ok(Ok((body, Some(headers))))
    }
}
