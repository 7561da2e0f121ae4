pub mod dlib;
