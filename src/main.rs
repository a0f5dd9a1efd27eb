fn main() {
    restaurant_web::start();
}
